import { createServer, Socket, type Server } from 'node:net';
import { HarnessError } from './errors.js';

/**
 * What a {@link LinkProxy} does to the bytes of one direction:
 * - `pass`: forwards them at once.
 * - `delay`: forwards them `delayMs` later, in order.
 * - `blackhole`: holds them; nothing arrives and nothing errors, as with a cable pulled out
 *   while TCP keeps retrying. Setting `pass` again delivers what was held, in order, which is
 *   how a command that timed out on the client can still run on the server later.
 */
export type LinkMode = 'pass' | 'delay' | 'blackhole';

/** `up`: client to server (commands); `down`: server to client (replies). */
export type LinkDirection = 'up' | 'down' | 'both';

interface Pending {
  readonly chunk: Buffer;
  readonly at: number;
}

/** One direction of one connection: the socket it writes to, and what it holds back. */
class Lane {
  readonly #queue: Pending[] = [];
  #timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly out: Socket,
    private readonly proxy: LinkProxy,
    private readonly direction: 'up' | 'down',
  ) {}

  push(chunk: Buffer): void {
    const { mode, delayMs } = this.proxy.modeOf(this.direction);
    const at = mode === 'delay' ? Date.now() + delayMs : Date.now();
    this.#queue.push({ chunk, at });
    this.flush();
  }

  /** Writes what is due, in order; a chunk held back holds back every chunk after it. */
  flush(): void {
    if (this.proxy.modeOf(this.direction).mode === 'blackhole') return;
    const now = Date.now();
    while (this.#queue.length > 0 && this.#queue[0]!.at <= now) {
      this.out.write(this.#queue.shift()!.chunk);
    }
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#queue.length > 0) {
      this.#timer = setTimeout(() => this.flush(), this.#queue[0]!.at - now);
    }
  }

  stop(): void {
    clearTimeout(this.#timer);
    this.#queue.length = 0;
  }
}

/**
 * A TCP proxy on 127.0.0.1 in front of one server, for one client's link to it: tests point
 * the client at {@link LinkProxy.port} and cut, hold or slow the link in either direction,
 * which is a partition only that client sees. No root and no network namespace needed.
 *
 * `refuse()` is a firewall's reject: open connections are reset and new ones closed at once;
 * `accept()` lets them in again.
 *
 * @example
 * const proxy = await LinkProxy.start({ port: node.port });
 * const client = new LockClient({ nodes: [{ id: 'n0', port: proxy.port }] });
 * proxy.set('down', 'blackhole'); // commands run, their replies never arrive
 */
export class LinkProxy {
  readonly #server: Server;
  readonly #target: { readonly host: string; readonly port: number };
  /** Each open connection: its two sockets and its two lanes. */
  readonly #links = new Set<{ readonly sockets: Socket[]; readonly lanes: Lane[] }>();
  readonly #modes = {
    up: { mode: 'pass' as LinkMode, delayMs: 0 },
    down: { mode: 'pass' as LinkMode, delayMs: 0 },
  };
  #refusing = false;

  private constructor(server: Server, target: { host: string; port: number }) {
    this.#server = server;
    this.#target = target;
  }

  /**
   * Listens on a free loopback port and forwards to `target`.
   *
   * @param target - the server's address; host defaults to 127.0.0.1
   * @returns the listening proxy, every direction in `pass`
   */
  static start(target: { readonly host?: string; readonly port: number }): Promise<LinkProxy> {
    const server = createServer();
    const proxy = new LinkProxy(server, { host: target.host ?? '127.0.0.1', port: target.port });
    server.on('connection', (socket) => proxy.#connect(socket));
    return new Promise((resolve, reject) => {
      server.once('error', (error) =>
        reject(
          new HarnessError('ERR_INVALID_ARGUMENT', 'link proxy: listen failed', { cause: error }),
        ),
      );
      server.listen({ host: '127.0.0.1', port: 0 }, () => resolve(proxy));
    });
  }

  /** The port clients connect to. */
  get port(): number {
    const address = this.#server.address();
    return typeof address === 'object' && address !== null ? address.port : 0;
  }

  /** How many client connections are open through the proxy. */
  get connections(): number {
    return this.#links.size;
  }

  /**
   * Sets what one direction (or both) does from now on; bytes already held follow the new mode.
   *
   * @param direction - `up` (commands), `down` (replies) or `both`
   * @param mode - see {@link LinkMode}
   * @param delayMs - with `delay`, how long each chunk is held (a whole number ≥ 0)
   * @throws HarnessError `ERR_INVALID_ARGUMENT` for a bad delay
   */
  set(direction: LinkDirection, mode: LinkMode, delayMs = 0): void {
    if (!Number.isInteger(delayMs) || delayMs < 0) {
      throw new HarnessError('ERR_INVALID_ARGUMENT', `link proxy: bad delay ${delayMs}`);
    }
    for (const side of direction === 'both' ? (['up', 'down'] as const) : [direction]) {
      this.#modes[side] = { mode, delayMs };
    }
    for (const link of this.#links) for (const lane of link.lanes) lane.flush();
  }

  /** Every direction back to `pass`, delivering what was held. */
  heal(): void {
    this.set('both', 'pass');
  }

  /** Resets every open connection and closes new ones at once until {@link accept}. */
  refuse(): void {
    this.#refusing = true;
    for (const link of this.#links) for (const socket of link.sockets) socket.resetAndDestroy();
  }

  /** Lets connections in again after {@link refuse}. */
  accept(): void {
    this.#refusing = false;
  }

  /** @internal what a lane of this proxy does now */
  modeOf(direction: 'up' | 'down'): { readonly mode: LinkMode; readonly delayMs: number } {
    return this.#modes[direction];
  }

  /** Closes every connection and stops listening. */
  close(): Promise<void> {
    this.refuse();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }

  #connect(client: Socket): void {
    if (this.#refusing) {
      client.resetAndDestroy();
      return;
    }
    const server = new Socket();
    const up = new Lane(server, this, 'up');
    const down = new Lane(client, this, 'down');
    const link = { sockets: [client, server], lanes: [up, down] };
    // Either side closing or failing ends both, as a real connection would.
    const end = (): void => {
      if (!this.#links.delete(link)) return;
      up.stop();
      down.stop();
      client.destroy();
      server.destroy();
    };
    this.#links.add(link);
    for (const socket of link.sockets) {
      socket.setNoDelay(true);
      socket.on('error', end);
      socket.on('close', end);
    }
    client.on('data', (chunk: Buffer) => up.push(chunk));
    server.on('data', (chunk: Buffer) => down.push(chunk));
    server.connect(this.#target.port, this.#target.host);
  }
}

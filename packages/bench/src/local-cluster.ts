import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NodeAddress } from './contenders/types.js';

/** One redis-server the bench started. */
export interface LocalNode extends NodeAddress {
  /** Its process id: the only process the bench ever signals. */
  readonly pid: number;
}

const READY_TIMEOUT_MS = 10_000;

/**
 * redis-server processes started for one run on free loopback ports, with no persistence,
 * in temporary folders. `stop()` ends exactly these processes (by pid) and removes their
 * folders; an exit hook kills any that are left if the process ends another way.
 */
export class LocalCluster {
  readonly #children: ChildProcess[] = [];
  readonly #dirs: string[] = [];
  readonly #nodes: LocalNode[] = [];
  readonly #onExit = (): void => {
    for (const child of this.#children)
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    for (const dir of this.#dirs) rmSync(dir, { recursive: true, force: true });
  };

  private constructor() {
    process.on('exit', this.#onExit);
  }

  /**
   * Starts `count` nodes (ids `local-0` …) and waits until each answers PING.
   * @throws when redis-server is missing or a node does not come up; what started is stopped
   */
  static async start(count: number, binary = 'redis-server'): Promise<LocalCluster> {
    const cluster = new LocalCluster();
    try {
      for (let i = 0; i < count; i++) await cluster.#startOne(`local-${i}`, binary);
    } catch (error) {
      await cluster.stop();
      throw error;
    }
    return cluster;
  }

  /** The running nodes. */
  get nodes(): readonly LocalNode[] {
    return this.#nodes;
  }

  /** Stops every node (SIGTERM, then SIGKILL after 3 s) and removes its folder. */
  async stop(): Promise<void> {
    await Promise.all(this.#children.map((child) => stopChild(child)));
    for (const dir of this.#dirs) rmSync(dir, { recursive: true, force: true });
    this.#children.length = 0;
    this.#dirs.length = 0;
    this.#nodes.length = 0;
    process.off('exit', this.#onExit);
  }

  async #startOne(id: string, binary: string): Promise<void> {
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'shardlock-bench-'));
    this.#dirs.push(dir);
    const args = [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      dir,
      '--daemonize',
      'no',
    ];
    const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.#children.push(child);
    let output = '';
    const keep = (chunk: Buffer): void => {
      output = (output + chunk.toString()).slice(-2_000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const failed = new Promise<never>((_, reject) => {
      child.once('error', (error) =>
        reject(
          new Error(`cannot run ${binary}: ${error.message} (run scripts/setup.sh to install it)`, {
            cause: error,
          }),
        ),
      );
      child.once('exit', (code, signal) =>
        reject(
          new Error(
            `redis-server on port ${port} exited (${code ?? signal}) before it was ready:\n${output}`,
          ),
        ),
      );
    });
    failed.catch(() => undefined);
    await Promise.race([waitForPing(port), failed]);
    this.#nodes.push({ id, host: '127.0.0.1', port, pid: child.pid! });
  }
}

/** A port the kernel says is free on 127.0.0.1 now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address !== null && typeof address === 'object') resolve(address.port);
        else reject(new Error('no port'));
      });
    });
  });
}

async function waitForPing(port: number): Promise<void> {
  const deadline = performance.now() + READY_TIMEOUT_MS;
  while (performance.now() < deadline) {
    if (await pingOnce(port)) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`redis-server on port ${port} did not answer PING within ${READY_TIMEOUT_MS} ms`);
}

function pingOnce(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => done(data.toString().startsWith('+PONG')));
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
  await exited;
  clearTimeout(timer);
}

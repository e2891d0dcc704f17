import type { BatchReply, Connection, ConnectionOptions } from '@shardlock/core/internal';
import type { Scheduler, Timer } from './scheduler.js';
import type { ServerPeer, SimServer } from './server.js';

/** What a connection needs of the client process it belongs to. */
export interface ClientProcess {
  /** Wraps a callback so that it runs only while the process is not stalled (SIGSTOP). */
  guard(run: () => void): () => void;
  /** One network hop, ms. */
  latency(): number;
  /**
   * How much longer than a hop a message to (`up`) or from (`down`) `server` takes now: a
   * link cut off only for this process holds its bytes until the cut heals, as TCP does.
   */
  held(server: SimServer, direction: 'up' | 'down'): number;
  /** ioredis' connect timeout, for a handshake a paused server never completes, ms. */
  readonly connectTimeout: number;
}

type Status = 'connecting' | 'ready' | 'reconnecting' | 'end';

interface Pending {
  done: boolean;
  timer: Timer;
  resolve(value: unknown): void;
  reject(error: Error): void;
}

/**
 * ioredis as the client uses it, over the simulated network: commands fail at once while
 * not connected (no offline queue), time out after `commandTimeout` and may still run on the
 * server afterwards, are dropped with their connection when the server dies, and the
 * connection reconnects on its own, at most `reconnectEvery` ms apart.
 */
export class SimConnection implements Connection, ServerPeer {
  #status: Status = 'connecting';
  readonly #sched: Scheduler;
  readonly #process: ClientProcess;
  readonly #server: SimServer;
  readonly #options: ConnectionOptions;
  readonly #listeners = {
    ready: [] as (() => void)[],
    close: [] as (() => void)[],
    error: [] as ((e: Error) => void)[],
  };
  readonly #pending = new Set<Pending>();
  #attempts = 0;
  #socket = 0;
  /**
   * When the last command sent on this socket reaches the server, and the last reply reaches
   * the client: one TCP connection delivers its bytes in order, so a command sent after a cut
   * healed never overtakes one the cut held (found by `pnpm sim --replicas 3 --seed 723`: a
   * release overtook the acquire it was meant to clean up).
   */
  #upAt = 0;
  /** Sockets up to this one were closed by the server: bytes still on their way are reset. */
  #closedByServer = 0;
  #downAt = 0;

  constructor(
    sched: Scheduler,
    process: ClientProcess,
    server: SimServer,
    options: ConnectionOptions,
  ) {
    this.#sched = sched;
    this.#process = process;
    this.#server = server;
    this.#options = options;
    this.#connect();
  }

  get status(): string {
    return this.#status;
  }

  get owner(): unknown {
    return this.#process;
  }

  on(event: 'ready' | 'close' | 'error', listener: (error: Error) => void): this {
    (this.#listeners[event] as ((error: Error) => void)[]).push(listener);
    return this;
  }

  #emit(event: 'ready' | 'close'): void;
  #emit(event: 'error', error: Error): void;
  #emit(event: 'ready' | 'close' | 'error', error?: Error): void {
    for (const listener of [...this.#listeners[event]]) (listener as (e?: Error) => void)(error);
  }

  #connect(): void {
    const socket = ++this.#socket;
    const sched = this.#sched;
    this.#upAt = 0;
    this.#downAt = 0;
    sched.at(
      sched.now + this.#process.latency() + this.#process.held(this.#server, 'up'),
      this.#process.guard(() => {
        if (socket !== this.#socket || this.#status === 'end') return;
        const timeout = sched.at(
          sched.now + this.#process.connectTimeout,
          this.#process.guard(() => {
            if (socket !== this.#socket || this.#status === 'ready' || this.#status === 'end')
              return;
            this.#server.forget(this);
            this.#fail(new Error('connect ETIMEDOUT'));
          }),
        );
        const accepted = this.#server.accept(this, () => {
          // The reply travels back before the client sees the connection ready.
          sched.at(
            sched.now + this.#process.latency() + this.#process.held(this.#server, 'down'),
            this.#process.guard(() => {
              if (socket !== this.#socket || this.#status === 'end') return;
              sched.cancel(timeout);
              this.#attempts = 0;
              this.#status = 'ready';
              this.#emit('ready');
            }),
          );
        });
        if (!accepted) {
          sched.cancel(timeout);
          this.#fail(new Error(`connect ECONNREFUSED 127.0.0.1:${this.#server.port}`));
        }
      }),
    );
  }

  /** The socket is gone: fail what is pending, say so, and try again later. */
  #fail(error: Error | undefined): void {
    this.#socket++;
    for (const pending of this.#pending) {
      pending.done = true;
      this.#sched.cancel(pending.timer);
      pending.reject(new Error('Reached the max retries per request limit (which is 0).'));
    }
    this.#pending.clear();
    if (this.#status === 'end') return;
    this.#status = 'reconnecting';
    if (error !== undefined) this.#emit('error', error);
    this.#emit('close');
    this.#attempts++;
    const delay = Math.min(this.#attempts * 50, this.#options.reconnectEvery);
    this.#sched.at(
      this.#sched.now + delay,
      this.#process.guard(() => {
        if (this.#status === 'reconnecting') this.#connect();
      }),
    );
  }

  /** From the server: it died, or closed this connection. */
  serverClosed(): void {
    const sched = this.#sched;
    const socket = this.#socket;
    this.#closedByServer = Math.max(this.#closedByServer, socket);
    // The client learns it one hop later.
    sched.at(
      sched.now + this.#process.latency(),
      this.#process.guard(() => {
        if (socket === this.#socket && this.#status !== 'end') this.#fail(undefined);
      }),
    );
  }

  #call(execute: (server: SimServer) => unknown): Promise<unknown> {
    if (this.#status !== 'ready') {
      return Promise.reject(
        new Error("Stream isn't writeable and enableOfflineQueue options is false"),
      );
    }
    const sched = this.#sched;
    const socket = this.#socket;
    return new Promise((resolve, reject) => {
      const pending: Pending = {
        done: false,
        resolve,
        reject,
        timer: sched.at(
          sched.now + this.#options.commandTimeout,
          this.#process.guard(() => {
            if (pending.done) return;
            pending.done = true;
            this.#pending.delete(pending);
            // It stays on the wire: the server may still run it later.
            reject(new Error('Command timed out'));
          }),
        ),
      };
      this.#pending.add(pending);
      const up = sched.now + this.#process.latency() + this.#process.held(this.#server, 'up');
      this.#upAt = Math.max(this.#upAt, up);
      const runId = this.#server.runId;
      sched.at(this.#upAt, () => {
        // A socket's bytes reach only the server process it was opened to: a restart's new
        // process never runs what a cut held for the old one (found by `pnpm sim --replicas
        // 3 --seed 733`: a grant held by a cut ran on the restarted server).
        if (this.#server.runId !== runId) return;
        // Nor does a connection the server closed: it resets what arrives on it later (found
        // by `pnpm sim --replicas 3 --seed 803`: a grant a cut held ran after the release the
        // client sent on its new connection).
        if (socket <= this.#closedByServer) return;
        this.#server.receive(this, {
          execute,
          respond: (outcome) => {
            const down =
              sched.now + this.#process.latency() + this.#process.held(this.#server, 'down');
            // (A reply to an older socket's command keeps its own timing: it is dropped.)
            if (socket === this.#socket) this.#downAt = Math.max(this.#downAt, down);
            sched.at(
              socket === this.#socket ? this.#downAt : down,
              this.#process.guard(() => {
                if (pending.done || socket !== this.#socket) return;
                pending.done = true;
                sched.cancel(pending.timer);
                this.#pending.delete(pending);
                if (outcome.error === undefined) resolve(outcome.value);
                else reject(outcome.error);
              }),
            );
          },
        });
      });
    });
  }

  batch(keys: readonly string[], args: readonly string[]): Promise<BatchReply[]> {
    return this.#call((server) => server.model.batch(keys, args)) as Promise<BatchReply[]>;
  }

  hello(keys: readonly string[]): Promise<unknown[]> {
    return this.#call((server) =>
      server.model.hello(keys, { runId: server.runId, uptimeSeconds: server.uptimeSeconds }),
    ) as Promise<unknown[]>;
  }

  record(keys: readonly string[], args: readonly string[]): Promise<unknown[]> {
    return this.#call((server) => server.model.record(keys, args)) as Promise<unknown[]>;
  }

  ping(): Promise<unknown> {
    return this.#call(() => 'PONG');
  }

  async evictionPolicy(): Promise<string | undefined> {
    try {
      return (await this.#call((server) => server.policy)) as string;
    } catch {
      return undefined;
    }
  }

  async quit(): Promise<unknown> {
    const reply = await this.#call(() => 'OK');
    this.disconnect();
    return reply;
  }

  disconnect(): void {
    if (this.#status === 'end') return;
    this.#server.forget(this);
    this.#status = 'end';
    this.#fail(undefined);
    this.#emit('close');
  }
}

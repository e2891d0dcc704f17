import { ScriptModel, type KeyEvent } from './model.js';
import type { Scheduler } from './scheduler.js';

/** The wall-clock time at which every simulated world starts, ms. */
const WORLD_EPOCH = 1_800_000_000_000;

/** A command a connection sent, executed when the server gets to it. */
interface Delivery {
  readonly execute: (server: SimServer) => unknown;
  readonly respond: (outcome: { value?: unknown; error?: Error }) => void;
}

/** Something the server tells its connections. */
export interface ServerPeer {
  /** The client process the connection belongs to. */
  readonly owner: unknown;
  /** The server process died, or closed this connection: the socket is gone. */
  serverClosed(): void;
}

/**
 * One simulated redis-server: the lock scripts' model over a clock that may run ahead of or
 * behind the world's, a run_id per incarnation, and the faults the real harness makes with
 * signals: kill (-9), restart empty, pause (SIGSTOP) and resume.
 */
export class SimServer {
  readonly name: string;
  readonly port: number;
  /** ms this server's clock runs ahead of the world's (negative: behind). */
  readonly skew: number;
  readonly model: ScriptModel;
  policy = 'noeviction';
  /** World ms when it was killed; `undefined` while it runs. */
  diedAt: number | undefined;
  #sched: Scheduler;
  #alive = true;
  #paused = false;
  #incarnation = 0;
  #startedAt: number;
  #backlog: { delivery: Delivery; peer: ServerPeer }[] = [];
  #waiting: (() => void)[] = [];
  readonly #peers = new Set<ServerPeer>();

  /**
   * @param onKey - every write to a lock key, with the incarnation it happened in
   */
  constructor(
    sched: Scheduler,
    name: string,
    port: number,
    skew: number,
    onKey: (server: SimServer, event: KeyEvent) => void,
  ) {
    this.#sched = sched;
    this.name = name;
    this.port = port;
    this.skew = skew;
    this.model = new ScriptModel(
      () => this.clock(),
      (event) => onKey(this, event),
    );
    this.#startedAt = this.clock();
  }

  /** The server's own wall clock, ms since the epoch (the world starts in 2027), skewed. */
  clock(): number {
    return WORLD_EPOCH + this.#sched.now + this.skew;
  }

  /** A time on this server's clock as world ms. */
  toWorld(ms: number): number {
    return ms - WORLD_EPOCH - this.skew;
  }

  get alive(): boolean {
    return this.#alive;
  }

  get paused(): boolean {
    return this.#paused;
  }

  /** Changes with every (re)start, like Redis' run_id. */
  get runId(): string {
    return `${this.name.replace(/\W/g, '')}r${this.#incarnation}`.padEnd(40, '0');
  }

  /** What INFO server says of its age: wall-clock second boundaries since the start. */
  get uptimeSeconds(): number {
    return this.uptimeSecondsIn(0);
  }

  /** What INFO server will say of its age `ms` from now. */
  uptimeSecondsIn(ms: number): number {
    return Math.floor((this.clock() + ms) / 1000) - Math.floor(this.#startedAt / 1000);
  }

  /** A connection attempt: `ready()` once the server answers (at once, or on resume). */
  accept(peer: ServerPeer, ready: () => void): boolean {
    if (!this.#alive) return false;
    this.#peers.add(peer);
    if (this.#paused) this.#waiting.push(ready);
    else ready();
    return true;
  }

  /** A connection closed by its client. */
  forget(peer: ServerPeer): void {
    this.#peers.delete(peer);
  }

  /** A command arrives; a paused server queues it, a dead one never sees it. */
  receive(peer: ServerPeer, delivery: Delivery): void {
    if (!this.#alive || !this.#peers.has(peer)) return;
    if (this.#paused) this.#backlog.push({ delivery, peer });
    else this.#execute(delivery);
  }

  #execute(delivery: Delivery): void {
    try {
      delivery.respond({ value: delivery.execute(this) });
    } catch (error) {
      delivery.respond({ error: error as Error });
    }
  }

  /** Told of every kill, before the process's data is gone. */
  onKill: ((server: SimServer) => void) | undefined;

  /** kill -9: every connection drops; nothing queued runs. */
  kill(): void {
    if (!this.#alive) return;
    this.onKill?.(this);
    this.#alive = false;
    this.diedAt = this.#sched.now;
    this.#paused = false;
    this.#backlog = [];
    this.#waiting = [];
    const peers = [...this.#peers];
    this.#peers.clear();
    for (const peer of peers) peer.serverClosed();
  }

  /** A new, empty process on the same address (after a kill, or killing it first). */
  restartEmpty(): void {
    this.kill();
    this.model.flush();
    // A setting made by CONFIG SET does not survive a restart.
    this.policy = 'noeviction';
    this.#incarnation++;
    this.#startedAt = this.clock();
    this.#alive = true;
    this.diedAt = undefined;
  }

  /**
   * `CONFIG SET maxmemory-policy` to `policy`, then `CLIENT KILL` of `owner`'s connections:
   * that client meets the server again and finds the policy; the others keep theirs open.
   */
  setPolicy(policy: string, owner: unknown): void {
    if (!this.#alive) return;
    this.policy = policy;
    for (const peer of [...this.#peers]) {
      if (peer.owner !== owner) continue;
      this.#peers.delete(peer);
      peer.serverClosed();
    }
  }

  /** SIGSTOP: connections stay open, nothing is answered. */
  pause(): void {
    if (this.#alive) this.#paused = true;
  }

  /** SIGCONT: what was queued runs in arrival order, then the handshakes complete. */
  resume(): void {
    if (!this.#alive || !this.#paused) return;
    this.#paused = false;
    const backlog = this.#backlog;
    this.#backlog = [];
    // What was sent before a client closed its socket is still read and run (its reply
    // goes nowhere), as a real server does with the bytes already in its socket buffer.
    for (const { delivery } of backlog) this.#execute(delivery);
    const waiting = this.#waiting;
    this.#waiting = [];
    for (const ready of waiting) ready();
  }
}

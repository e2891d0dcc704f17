import type { LockClientOptions, NodeSpec } from '@shardlock/core';
import { LockClient } from '@shardlock/core';
import { RUNTIME, type Runtime } from '@shardlock/core/internal';
import { SimConnection, type ClientProcess } from './connection.js';
import { prng, type Scheduler, type Timer } from './scheduler.js';
import type { SimServer } from './server.js';

/** What a simulated process needs of its world. */
export interface ProcessWorld {
  readonly sched: Scheduler;
  server(port: number): SimServer;
  /** A token was handed out: who got it, when. */
  issued(token: string, process: SimProcess): void;
}

/**
 * One client process of the simulated world: a real `LockClient` whose clock, timers,
 * randomness, tokens and connections are the world's. Stalling it (SIGSTOP) holds back every
 * callback it would run until it resumes, replies from the network included.
 */
export class SimProcess implements ClientProcess {
  readonly name: string;
  readonly client: LockClient;
  readonly random: () => number;
  readonly connectTimeout: number;
  /** Every connection the client opened, to check that `close()` ends them all. */
  readonly connections: { readonly server: string; readonly connection: SimConnection }[] = [];
  #world: ProcessWorld;
  #stalledUntil = 0;
  /** Links cut off for this process only: until when, and in which directions. */
  readonly #cuts = new Map<SimServer, { until: number; both: boolean }>();
  #tokens = 0;
  readonly #index: number;
  readonly #netRandom: () => number;

  constructor(
    world: ProcessWorld,
    index: number,
    seed: number,
    nodes: readonly NodeSpec[],
    options: Omit<LockClientOptions, 'nodes'>,
    connectTimeout: number,
  ) {
    this.connectTimeout = connectTimeout;
    this.#world = world;
    this.#index = index;
    this.name = `c${index}`;
    this.random = prng(seed);
    this.#netRandom = prng(seed ^ 0x5bd1e995);
    const sched = world.sched;
    const runtime: Runtime = {
      now: () => sched.now,
      wallNow: () => 1_800_000_000_000 + sched.now,
      setTimeout: (callback, ms) => sched.at(sched.now + Math.max(0, ms), this.guard(callback)),
      clearTimeout: (handle) => sched.cancel(handle as Timer | undefined),
      soon: (callback) => sched.soon(this.guard(callback)),
      later: (callback) => sched.at(sched.now, this.guard(callback)),
      random: this.random,
      token: () => {
        const token = `${this.#index}.${(this.#tokens++).toString(36)}`.padEnd(22, '-');
        world.issued(token, this);
        return token;
      },
      connect: (spec, connection) => {
        const opened = new SimConnection(sched, this, world.server(spec.port), connection);
        this.connections.push({ server: spec.id, connection: opened });
        return opened;
      },
    };
    this.client = new LockClient({ nodes, ...options, [RUNTIME]: runtime } as LockClientOptions);
    this.client.on('nodeError', () => undefined);
    this.client.on('backgroundError', () => undefined);
  }

  /** The world's clock. */
  get sched(): Scheduler {
    return this.#world.sched;
  }

  /** Whether the process is stopped now. */
  get stalled(): boolean {
    return this.#stalledUntil > this.#world.sched.now;
  }

  /** Stops the process for `ms` (SIGSTOP), from now. */
  stall(ms: number): void {
    this.#stalledUntil = Math.max(this.#stalledUntil, this.#world.sched.now + ms);
  }

  guard(run: () => void): () => void {
    const guarded = (): void => {
      const sched = this.#world.sched;
      if (this.#stalledUntil > sched.now) sched.at(this.#stalledUntil, guarded);
      else run();
    };
    return guarded;
  }

  /** Cuts this process off from `server` for `ms` (`both` ways, or only its replies). */
  cut(server: SimServer, ms: number, both: boolean): void {
    this.#cuts.set(server, { until: this.#world.sched.now + ms, both });
  }

  held(server: SimServer, direction: 'up' | 'down'): number {
    const cut = this.#cuts.get(server);
    if (cut === undefined || (direction === 'up' && !cut.both)) return 0;
    return Math.max(0, cut.until - this.#world.sched.now);
  }

  latency(): number {
    // Mostly sub-millisecond hops on loopback, now and then a slow one.
    const r = this.#netRandom();
    return r < 0.9 ? 0.05 + r * 0.5 : 1 + r * 4;
  }

  /** Waits `ms` of virtual time (stall-aware). */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.#world.sched.at(this.#world.sched.now + ms, this.guard(resolve));
    });
  }
}

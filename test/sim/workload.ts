import { ShardlockError, type Lock } from '@shardlock/core';
import type { Grant } from '../support/grants.js';
import type { SimProcess } from './process.js';
import type { timingOf } from './schedule.js';

/** How a holder let go of a lock, for the oracle's stricter checks (oracle.ts). */
export interface LetGo {
  /** When its `release()` resolved: every node that may hold the token has deleted it. */
  released?: number;
  /** An `extend()` refused with `ERR_LOCK_LOST`: called at `calledAt`, rejected at `at`. */
  lostExtend?: { readonly calledAt: number; readonly at: number };
}

/** What the workers of every process report. */
export interface Observed {
  readonly grants: Grant[];
  readonly problems: string[];
  /** By token: how the holder let go, when it did so by a call that settled. */
  readonly letGo: Map<string, LetGo>;
}

/** How one process's workers behave. */
export interface WorkloadOptions {
  readonly workers: number;
  readonly keys: number;
  readonly stopping: () => boolean;
  /** The process's settings differ from the cluster's: it must never be granted anything. */
  readonly refused: boolean;
  readonly observed: Observed;
  readonly timing: ReturnType<typeof timingOf>;
  /** How much slower than the base the world runs. */
  readonly scale: number;
}

/**
 * Lock traffic on a few hot keys, in every way a caller uses the client: acquire and release,
 * holds past the lease without looking, withLock with auto-extension, an extend raced by a
 * release, acquireMany, and tryAcquire with aborts. Every grant is recorded with what its
 * holder believes (docs/safety.md, the oracles).
 */
export async function runWorkers(process: SimProcess, options: WorkloadOptions): Promise<void> {
  await Promise.all(Array.from({ length: options.workers }, (_, w) => worker(process, options, w)));
}

async function worker(process: SimProcess, options: WorkloadOptions, index: number): Promise<void> {
  const { client, random } = process;
  const { observed, timing, scale } = options;
  const WAIT = 300 * scale;
  // Every call settles within its waitTimeout plus this (a connect timeout and a few command
  // timeouts); longer is a hang.
  const SETTLE = 1_000 * scale + 6 * timing.commandTimeout;
  const key = (): string => `k${Math.floor(random() * options.keys)}`;
  const now = (): number => process.sched.now;
  const record = (lock: Lock): Grant => {
    const grant: Grant = {
      key: lock.key,
      token: lock.token,
      fence: lock.fence,
      grantedAt: now(),
      believedUntil: lock.deadline,
      releasedAt: Number.POSITIVE_INFINITY,
      owner: `${process.name}/w${index}`,
    };
    if (options.refused)
      observed.problems.push(`${process.name}: granted ${lock.key} to a refused client`);
    observed.grants.push(grant);
    return grant;
  };
  const letGo = (token: string): LetGo => {
    let entry = observed.letGo.get(token);
    if (entry === undefined) observed.letGo.set(token, (entry = {}));
    return entry;
  };
  const release = async (lock: Lock): Promise<void> => {
    await lock.release();
    letGo(lock.token).released = now();
  };
  /**
   * The holder renews before it goes on. Refused once its validity has run out (even where
   * Redis still holds the key); a holder whose extend is refused takes the lock as lost and
   * lets go without a release (the extend takes back what it placed). False when refused;
   * any other failure is thrown after a release.
   */
  const renewed = async (lock: Lock, grant: Grant): Promise<boolean> => {
    const calledAt = now();
    const late = calledAt - lock.deadline;
    try {
      await lock.extend();
    } catch (error) {
      grant.releasedAt = Math.min(grant.releasedAt, now());
      if ((error as { code?: unknown }).code === 'ERR_LOCK_LOST') {
        letGo(lock.token).lostExtend = { calledAt, at: now() };
        return false;
      }
      // Not renewed (a node did not answer): it lets go as withLock does, by a release.
      await release(lock);
      throw error;
    }
    if (late >= 0) {
      observed.problems.push(
        `${process.name}/w${index}: extend of ${lock.key} called ${late.toFixed(1)} ms after its validity ran out was granted`,
      );
    }
    grant.believedUntil = lock.deadline;
    await process.sleep(random() * lock.ttl * 0.5);
    return true;
  };
  const ttl = (): number => 20 * scale + Math.floor(random() * (timing.maxTtl - 20 * scale));
  const retry = { attempts: 20, delay: 5, maxDelay: 40, jitter: 5 };
  while (!options.stopping()) {
    const started = now();
    const style = random();
    const call = async (): Promise<void> => {
      if (style < 0.35) {
        const lock = await client.acquire(key(), { ttl: ttl(), waitTimeout: WAIT, retry });
        const grant = record(lock);
        const pause = random();
        // Now and then a holder overstays its lease without looking (a GC pause), or renews
        // at the last moment (its extend reaches the node as the key expires there).
        if (pause < 0.1) await process.sleep(Math.max(0, lock.deadline - now() - random() * 3));
        else await process.sleep(pause < 0.25 ? lock.ttl * 1.3 : random() * lock.ttl * 0.5);
        if ((pause < 0.1 || random() < 0.3) && !(await renewed(lock, grant))) return;
        grant.releasedAt = now();
        await release(lock);
      } else if (style < 0.6) {
        await client.withLock(
          key(),
          async (signal, lock) => {
            const grant = record(lock);
            const until = now() + random() * timing.maxTtl * 2;
            while (now() < until && !signal.aborted) await process.sleep(5 * scale);
            grant.believedUntil = lock.deadline;
            grant.releasedAt = now();
          },
          { ttl: ttl(), waitTimeout: WAIT, retry },
        );
      } else if (style < 0.75) {
        // An extend raced by a release (withLock's own finally does this).
        const lock = await client.acquire(key(), { ttl: ttl(), waitTimeout: WAIT, retry });
        const grant = record(lock);
        await process.sleep(random() * lock.ttl * 0.4);
        grant.releasedAt = now();
        const extending = lock.extend().then(
          () => undefined,
          (error: unknown) => void observed.problems.push(...untyped(process, error)),
        );
        // The release goes out at once, or while the extend's ops travel (hops: process.ts).
        const gap = random();
        if (gap < 0.6) await process.sleep(gap < 0.3 ? random() * 0.6 : random() * 3);
        await release(lock);
        await extending;
      } else if (style < 0.88) {
        const first = key();
        const second = first === 'k0' ? 'k1' : 'k0';
        const group = await client.acquireMany([first, second], {
          ttl: ttl(),
          waitTimeout: WAIT,
          retry,
        });
        const grants = group.locks.map(record);
        await process.sleep(random() * timing.maxTtl * 0.3);
        for (const grant of grants) grant.releasedAt = now();
        await group.release();
        for (const lock of group.locks) letGo(lock.token).released = now();
      } else {
        const controller = new AbortController();
        if (random() < 0.3)
          process.sleep(random() * 3).then(
            () => controller.abort(),
            () => undefined,
          );
        const lock = await client.tryAcquire(key(), { ttl: ttl(), signal: controller.signal });
        if (lock !== null) {
          const grant = record(lock);
          await process.sleep(random() * 20 * scale);
          grant.releasedAt = now();
          await release(lock);
        }
      }
    };
    const watchdog = process.sched.at(started + WAIT + timing.maxTtl * 3 + SETTLE, () => {
      observed.problems.push(
        `${process.name}/w${index}: a call started at ${started.toFixed(1)} never settled`,
      );
    });
    await call().catch((error: unknown) => void observed.problems.push(...untyped(process, error)));
    process.sched.cancel(watchdog);
    await process.sleep(random() * 10 * scale);
  }
}

/** A problem line when `error` is not one of the client's typed errors. */
export function untyped(process: SimProcess, error: unknown): string[] {
  // Only the client's own errors leave it (a RingError has a code too, and is not one).
  if (error instanceof ShardlockError) return [];
  return [`${process.name}: untyped error ${String((error as Error | undefined)?.stack ?? error)}`];
}

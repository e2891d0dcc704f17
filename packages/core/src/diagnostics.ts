import { channel, tracingChannel } from 'node:diagnostics_channel';
import type { LockLostReason } from './events.js';
import type { Lock } from './lock.js';

/**
 * The `node:diagnostics_channel` names shardlock publishes on; stable across versions. The
 * three operations are tracing channels (subscribe with `tracingChannel(name).subscribe`:
 * `start`, `end`, `asyncStart`, `asyncEnd`, `error`), the others plain channels.
 * Nothing is built or published while a channel has no subscriber.
 */
export const CHANNELS = {
  /** Tracing: one `acquire`, `tryAcquire`, `withLock`'s acquire, or `acquireMany`. */
  acquire: 'shardlock:acquire',
  /** Tracing: one `Lock.extend` (also `withLock`'s automatic ones). */
  extend: 'shardlock:extend',
  /** Tracing: one `Lock.release`. */
  release: 'shardlock:release',
  /** {@link BatchMessage}: one batch script call came back or failed. */
  batch: 'shardlock:batch',
  /** {@link LockLostMessage}: a believed lock was found lost. */
  lockLost: 'shardlock:lockLost',
  /** {@link NodeStateMessage}: a node went up, down, restarted or was quarantined. */
  nodeState: 'shardlock:nodeState',
} as const;

/** Context of an `acquire` trace; `result` or `error` is set when it settles. */
export interface AcquireTrace {
  /** The `LockClient` that acquires. */
  readonly client: object;
  /** The key, or the first of `acquireMany`'s keys. */
  readonly key: string;
  /** How many keys (1 but for `acquireMany`). */
  readonly keys: number;
  readonly ttl: number;
  result?: unknown;
  error?: unknown;
}

/** Context of an `extend` or `release` trace. */
export interface LockTrace {
  readonly client: object;
  readonly key: string;
  /** The lock's fence. */
  readonly fence: bigint;
  /** The lock itself. */
  readonly lock: Lock;
  result?: unknown;
  error?: unknown;
}

/** One batch call to one node. */
export interface BatchMessage {
  readonly client: object;
  readonly nodeId: string;
  /** Ops the call carried. */
  readonly size: number;
  /** From send to reply (or failure), in ms. */
  readonly roundTrip: number;
  readonly failed: boolean;
}

/** A believed lock was found lost (as the `lockLost` event). */
export interface LockLostMessage {
  readonly client: object;
  readonly key: string;
  readonly nodeId: string;
  readonly fence: bigint;
  readonly reason: LockLostReason;
}

/** A node's state changed (as the `nodeUp`, `nodeDown`, … events). */
export interface NodeStateMessage {
  readonly client: object;
  readonly nodeId: string;
  readonly state: 'up' | 'down' | 'restarted' | 'quarantined';
  /** The event's own payload. */
  readonly event: unknown;
}

/** @internal */
export const acquireChannel = tracingChannel<AcquireTrace, AcquireTrace>(CHANNELS.acquire);
/** @internal */
export const extendChannel = tracingChannel<LockTrace, LockTrace>(CHANNELS.extend);
/** @internal */
export const releaseChannel = tracingChannel<LockTrace, LockTrace>(CHANNELS.release);
/** @internal */
export const batchChannel = channel(CHANNELS.batch);
/** @internal */
export const lockLostChannel = channel(CHANNELS.lockLost);
/** @internal */
export const nodeStateChannel = channel(CHANNELS.nodeState);

const NODE_STATES: Readonly<Record<string, NodeStateMessage['state']>> = {
  nodeUp: 'up',
  nodeDown: 'down',
  nodeRestarted: 'restarted',
  nodeQuarantined: 'quarantined',
};

/** Publishes a client event on its channel when someone listens. @internal */
export function publishEvent(client: object, event: string, payload: unknown): void {
  const state = NODE_STATES[event];
  if (state !== undefined && nodeStateChannel.hasSubscribers) {
    const nodeId = (payload as { nodeId: string }).nodeId;
    nodeStateChannel.publish({ client, nodeId, state, event: payload } satisfies NodeStateMessage);
  } else if (event === 'lockLost' && lockLostChannel.hasSubscribers) {
    lockLostChannel.publish({ client, ...(payload as Omit<LockLostMessage, 'client'>) });
  }
}

/**
 * Runs an acquire traced on the `acquire` channel. Callers check
 * `acquireChannel.hasSubscribers` first, so that an untraced acquire builds no closure.
 * @internal
 */
export function traceAcquire<T>(
  client: object,
  key: string,
  keys: number,
  ttl: number,
  run: () => Promise<T>,
): Promise<T> {
  return acquireChannel.tracePromise(run, { client, key, keys, ttl });
}

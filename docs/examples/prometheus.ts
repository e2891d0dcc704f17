// Bridges shardlock's diagnostics channels to Prometheus metrics with prom-client. Copy it
// into your service; test/integration/metrics-example.test.ts runs it against real nodes.
import { subscribe, tracingChannel, unsubscribe } from 'node:diagnostics_channel';
import {
  CHANNELS,
  type AcquireTrace,
  type BatchMessage,
  type LockLostMessage,
  type NodeStateMessage,
} from '@shardlock/core';
import { Counter, Histogram, type Registry } from 'prom-client';

/**
 * Registers shardlock metrics in `registry` and feeds them from the channels of every
 * `LockClient` in the process. Returns a function that stops the feed.
 */
export function bridgeToPrometheus(registry: Registry): () => void {
  const acquireSeconds = new Histogram({
    name: 'shardlock_acquire_seconds',
    help: 'Time an acquire cost its caller, by outcome (granted, held, or the error code)',
    labelNames: ['outcome'],
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const batchSeconds = new Histogram({
    name: 'shardlock_batch_seconds',
    help: 'Round trip of one batch call to a node',
    labelNames: ['node', 'failed'],
    buckets: [0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1],
    registers: [registry],
  });
  const batchOps = new Histogram({
    name: 'shardlock_batch_ops',
    help: 'Lock operations carried by one batch call',
    labelNames: ['node'],
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512],
    registers: [registry],
  });
  const lost = new Counter({
    name: 'shardlock_locks_lost_total',
    help: 'Locks found lost while believed held',
    labelNames: ['reason'],
    registers: [registry],
  });
  const nodeStates = new Counter({
    name: 'shardlock_node_state_changes_total',
    help: 'Node state changes seen by the clients',
    labelNames: ['node', 'state'],
    registers: [registry],
  });

  // A trace's context is the same object from start to end: the start time rides on it.
  const started = new WeakMap<AcquireTrace, number>();
  const acquire = tracingChannel<AcquireTrace, AcquireTrace>(CHANNELS.acquire);
  const none = (): void => undefined;
  // @types/node wants all five handlers; Node itself takes any of them.
  const onAcquire = {
    end: none,
    asyncStart: none,
    error: none,
    start: (context: AcquireTrace) => void started.set(context, performance.now()),
    asyncEnd: (context: AcquireTrace) => {
      const since = started.get(context);
      if (since === undefined) return;
      const error = context.error as { code?: string } | undefined;
      const outcome =
        error !== undefined
          ? (error.code ?? 'error')
          : context.result === null
            ? 'held'
            : 'granted';
      acquireSeconds.observe({ outcome }, (performance.now() - since) / 1000);
    },
  };
  const onBatch = (message: unknown): void => {
    const batch = message as BatchMessage;
    batchSeconds.observe(
      { node: batch.nodeId, failed: String(batch.failed) },
      batch.roundTrip / 1000,
    );
    batchOps.observe({ node: batch.nodeId }, batch.size);
  };
  const onLost = (message: unknown): void =>
    lost.inc({ reason: (message as LockLostMessage).reason });
  const onNode = (message: unknown): void => {
    const { nodeId, state } = message as NodeStateMessage;
    nodeStates.inc({ node: nodeId, state });
  };

  acquire.subscribe(onAcquire);
  subscribe(CHANNELS.batch, onBatch);
  subscribe(CHANNELS.lockLost, onLost);
  subscribe(CHANNELS.nodeState, onNode);
  return () => {
    acquire.unsubscribe(onAcquire);
    unsubscribe(CHANNELS.batch, onBatch);
    unsubscribe(CHANNELS.lockLost, onLost);
    unsubscribe(CHANNELS.nodeState, onNode);
  };
}

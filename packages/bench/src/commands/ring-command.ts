import { resolveClientOptions } from '@shardlock/core';
import { HashRing, RingError } from '@shardlock/ring';
import { UsageError } from '../args.js';
import { CLUSTER_HELP } from './cluster-input.js';
import { meetCluster } from './cluster.js';
import { EXIT } from './exit-codes.js';
import { println } from './io.js';
import { percent, printTable, toJson } from './output.js';
import type { Subcommand } from './subcommand.js';

const USAGE = `Usage: shardlock ring [KEY…] [--simulate-add ID[=WEIGHT] | --simulate-remove ID] [options]

Where each KEY lives: its owner (in quorum mode its replicas) and its preference list, the
nodes that take it over in turn when the ones before fail or leave. Computed here, from the
node ids, weights and shared settings (read from the cluster's record when the config does
not give them); nothing is sent but that read.

  --simulate-add ID[=WEIGHT]  also show where each KEY would be with node ID added, and the
                              share of all keys that would move
  --simulate-remove ID        the same with node ID removed

${CLUSTER_HELP}`;

// Keys sampled to measure movement in quorum mode, where a key moves when its replica set
// changes (one owner per key: the exact arc share of the node added or removed).
const SAMPLE = 100_000;

/** `shardlock ring KEY…`. */
export const RING_COMMAND: Subcommand = {
  name: 'ring',
  usage: USAGE,
  flags: { 'simulate-add': { type: 'string' }, 'simulate-remove': { type: 'string' } },
  positionals: { min: 0, max: Number.POSITIVE_INFINITY, name: 'KEYs' },
  async run({ values, positionals, input, json, io }) {
    const add = typeof values['simulate-add'] === 'string' ? values['simulate-add'] : undefined;
    const remove =
      typeof values['simulate-remove'] === 'string' ? values['simulate-remove'] : undefined;
    if (add !== undefined && remove !== undefined) {
      throw new UsageError('give --simulate-add or --simulate-remove, not both');
    }
    if (positionals.length === 0 && add === undefined && remove === undefined) {
      throw new UsageError('give at least one KEY, or --simulate-add / --simulate-remove');
    }
    const cluster = await meetCluster(input, { needIds: true });
    const options = resolveClientOptions(cluster.options);
    const ring = new HashRing(
      options.nodes.map(({ id, weight }) => ({ id, weight })),
      { vnodes: options.vnodes },
    );
    const replicas = Math.min(options.replicas, ring.size);
    const added = add === undefined ? undefined : parseAdd(add);
    const changed = added?.id ?? remove;
    let after: HashRing | undefined;
    try {
      if (added !== undefined) after = ring.add(added);
      if (remove !== undefined) after = ring.remove(remove);
    } catch (error) {
      if (error instanceof RingError) throw new UsageError(error.message);
      throw error;
    }
    const place = (r: HashRing, key: string): { owners: string[]; preference: string[] } => ({
      owners: r.owners(key, Math.min(replicas, r.size)),
      preference: r.owners(key, Math.min(r.size, replicas + 2)),
    });
    const keys = positionals.map((key) => ({
      key,
      ...place(ring, key),
      ...(after === undefined ? {} : { after: place(after, key) }),
    }));
    const simulation =
      after === undefined || changed === undefined
        ? undefined
        : {
            action: added !== undefined ? 'add' : 'remove',
            nodeId: changed,
            movedShare: movedShare(ring, after, replicas, changed),
            exact: replicas === 1,
          };
    if (json) {
      println(io.stdout, toJson({ replicas, keys, simulation }));
      return EXIT.OK;
    }
    if (keys.length > 0) {
      printTable(
        io.stdout,
        keys.map((k) => ({
          key: k.key,
          [replicas > 1 ? 'replicas' : 'owner']: k.owners.join(', '),
          'preference list': k.preference.join(' → '),
          ...(k.after === undefined
            ? {}
            : {
                after:
                  k.after.owners.join(', ') + (same(k.owners, k.after.owners) ? '' : ' (moves)'),
              }),
        })),
        '',
      );
    }
    if (simulation !== undefined) {
      const verb = simulation.action === 'add' ? 'adding' : 'removing';
      const how = simulation.exact
        ? 'exactly'
        : `sampled over ${SAMPLE.toLocaleString('en-US')} keys`;
      println(
        io.stdout,
        `${keys.length > 0 ? '\n' : ''}${verb} ${simulation.nodeId} moves ${percent(simulation.movedShare)} of keys (${how})`,
      );
    }
    return EXIT.OK;
  },
};

function parseAdd(text: string): { id: string; weight: number } {
  const at = text.lastIndexOf('=');
  if (at < 0) return { id: text, weight: 1 };
  const weight = Number(text.slice(at + 1));
  if (!Number.isFinite(weight) || weight <= 0) {
    throw new UsageError(
      `--simulate-add takes ID or ID=WEIGHT (a positive number), received ${JSON.stringify(text)}`,
    );
  }
  return { id: text.slice(0, at), weight };
}

/**
 * The share of keys whose owner (or replica set) changes: with one owner, exactly the arc share
 * of the node added or removed (only its keys move); with replicas, sampled.
 */
function movedShare(before: HashRing, after: HashRing, replicas: number, nodeId: string): number {
  if (replicas === 1) {
    return (after.has(nodeId) ? after.shares().get(nodeId) : before.shares().get(nodeId)) ?? 0;
  }
  let moved = 0;
  for (let i = 0; i < SAMPLE; i++) {
    const key = `sample:${i}`;
    const a = before.owners(key, Math.min(replicas, before.size));
    const b = after.owners(key, Math.min(replicas, after.size));
    if (!same(a, b)) moved++;
  }
  return moved / SAMPLE;
}

/** Whether two owner lists hold the same nodes, in any order. */
function same(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((id) => b.includes(id));
}

import type { Writable } from 'node:stream';
import type { LockInspection } from '@shardlock/core';
import { CLUSTER_HELP } from './cluster-input.js';
import { commandClient, meetCluster, noRecord, nodeFailureLine } from './cluster.js';
import { EXIT } from './exit-codes.js';
import { println } from './io.js';
import { duration, errorLine, printTable, toJson } from './output.js';
import type { Subcommand } from './subcommand.js';

const USAGE = `Usage: shardlock inspect KEY [options]

Whether KEY is locked, by whom (the token's fingerprint, never the token), for how much
longer, the last fence its node(s) issued, and the state of each node the lock may be on:
its owner (during a membership change its old owner too), or in quorum mode its replicas.
Exit 0 whether held or not; 1 when a node of the key could not be asked.

${CLUSTER_HELP}`;

/** `shardlock inspect KEY`. */
export const INSPECT_COMMAND: Subcommand = {
  name: 'inspect',
  usage: USAGE,
  flags: {},
  positionals: { min: 1, max: 1, name: 'KEY' },
  async run({ positionals, input, json, io }) {
    const key = positionals[0]!;
    const cluster = await meetCluster(input, { needIds: true });
    if (!cluster.hasRecord) {
      const errors = noRecord(io, cluster);
      for (const failed of errors) errorLine(io.stderr, failed.error);
      // A node that did not answer may hold it: say nothing rather than "not held".
      if (errors.length > 0) return EXIT.NODE_FAILED;
      const free = { key, held: false, nodes: [] };
      println(io.stdout, json ? toJson(free) : `${key} is not held`);
      return EXIT.OK;
    }
    const client = commandClient(cluster.options);
    let seen: LockInspection;
    try {
      seen = await client.inspect(key);
    } finally {
      await client.close();
    }
    const failed = seen.nodes.filter((node) => node.error !== undefined);
    for (const node of failed) {
      errorLine(io.stderr, nodeFailureLine(cluster, node.nodeId, node.error!));
    }
    if (json) println(io.stdout, toJson(seen));
    else printInspection(io.stdout, seen);
    return failed.length > 0 ? EXIT.NODE_FAILED : EXIT.OK;
  },
};

/** The readable form: one sentence, then one row per node. */
export function printInspection(stream: Writable, seen: LockInspection): void {
  const fence = seen.lastFence === undefined ? '' : `; last fence issued ${seen.lastFence}`;
  const mode = seen.replicas > 1 ? ` (quorum of ${seen.replicas} replicas)` : '';
  println(
    stream,
    seen.held
      ? `${seen.key} is held by ${seen.fingerprint!} for ${duration(seen.ttl)} more${mode}${fence}`
      : `${seen.key} is not held${mode}${fence}`,
  );
  println(stream);
  printTable(
    stream,
    seen.nodes.map((node) => ({
      node: node.nodeId,
      address: node.address,
      state: node.state,
      held: node.error !== undefined ? '?' : node.held ? 'yes' : 'no',
      fingerprint: node.fingerprint ?? '',
      ttl: duration(node.ttl),
      'last fence': node.lastFence?.toString() ?? '',
      error: node.error?.code ?? '',
    })),
    'no node',
  );
}

import type { ForceReleaseResult } from '@shardlock/core';
import { UsageError } from '../args.js';
import { CLUSTER_HELP } from './cluster-input.js';
import { commandClient, meetCluster, noRecord, nodeFailureLine } from './cluster.js';
import { EXIT } from './exit-codes.js';
import { confirm, println, type CommandIo } from './io.js';
import { duration, errorLine, printTable, toJson } from './output.js';
import type { Subcommand } from './subcommand.js';

const USAGE = `Usage: shardlock unlock KEY [--fingerprint F] [--yes] [options]

Deletes KEY's lock on every node it may be on, for a holder that is gone or stuck. It asks
first (on a terminal) unless --yes; without a terminal it refuses unless --yes.

Only the holder it shows (or the one --fingerprint names) is deleted: if the lock changed
hands in between, the new holder's lease is left alone. The old holder learns at its next
extend (LockLostError) and may be working, believing it holds the lock, until then: this
breaks mutual exclusion for that while. The resource stays safe only if it checks fences:
the next holder's fence is above the old one's.

  --fingerprint F        delete only the lease of the holder with this fingerprint
                         (8 hex characters, as inspect and locks show it)
  --yes                  do not ask

Exit 0 deleted; 3 nothing deleted (not held, another holder, or declined); 1 a node failed.

${CLUSTER_HELP}`;

/** `shardlock unlock KEY`. */
export const UNLOCK_COMMAND: Subcommand = {
  name: 'unlock',
  usage: USAGE,
  flags: { fingerprint: { type: 'string' }, yes: { type: 'boolean' } },
  positionals: { min: 1, max: 1, name: 'KEY' },
  async run({ values, positionals, input, json, io }) {
    const key = positionals[0]!;
    const wanted =
      typeof values.fingerprint === 'string' ? values.fingerprint.toLowerCase() : undefined;
    if (wanted !== undefined && !/^[0-9a-f]{8}$/.test(wanted)) {
      throw new UsageError(
        `--fingerprint takes 8 hex characters, received ${JSON.stringify(values.fingerprint)}`,
      );
    }
    const yes = values.yes === true;
    if (!yes && io.stdin.isTTY !== true) {
      throw new UsageError(
        'refusing to delete a lock without --yes: stdin is not a terminal to ask on',
      );
    }
    const cluster = await meetCluster(input, { needIds: true });
    if (!cluster.hasRecord) {
      const errors = noRecord(io, cluster);
      for (const failed of errors) errorLine(io.stderr, failed.error);
      return errors.length > 0 ? EXIT.NODE_FAILED : EXIT.NOTHING_DELETED;
    }
    const client = commandClient(cluster.options);
    try {
      const seen = await client.inspect(key);
      for (const node of seen.nodes) {
        if (node.error !== undefined) {
          errorLine(io.stderr, nodeFailureLine(cluster, node.nodeId, node.error));
        }
      }
      const holders = seen.nodes.filter((node) => node.held);
      // The holder a quorum's majority names, else the one a node holds (a leftover).
      const target = wanted ?? seen.fingerprint ?? holders[0]?.fingerprint;
      const on = holders.filter((node) => node.fingerprint === target);
      if (target === undefined || on.length === 0) {
        const why =
          holders.length === 0
            ? `${key} is not held`
            : `${key} is held by ${holders.map((n) => n.fingerprint!).join(', ')}, not ${target!}`;
        println(io.stderr, `shardlock: ${why}: nothing deleted`);
        if (json) println(io.stdout, toJson({ key, released: false, nodes: [] }));
        return EXIT.NOTHING_DELETED;
      }
      const ttl = Math.max(...on.map((node) => node.ttl ?? 0));
      const what = `${key}: held by ${target} on ${on.map((n) => n.nodeId).join(', ')} for ${duration(ttl)} more`;
      if (!yes) {
        const asked = await confirm(
          io,
          `${what}.\nDelete it? Its holder may go on working until its next extend fails, while another client takes the lock; only fences keep the resource safe.`,
        );
        if (!asked) {
          println(io.stderr, 'shardlock: nothing deleted');
          return EXIT.NOTHING_DELETED;
        }
      }
      const result = await client.forceRelease(key, { fingerprint: target });
      report(io, result, json, (id, error) => nodeFailureLine(cluster, id, error));
      if (result.nodes.some((node) => node.outcome === 'failed')) return EXIT.NODE_FAILED;
      return result.released ? EXIT.OK : EXIT.NOTHING_DELETED;
    } finally {
      await client.close();
    }
  },
};

function report(
  io: CommandIo,
  result: ForceReleaseResult,
  json: boolean,
  line: (nodeId: string, error: Error) => string,
): void {
  for (const node of result.nodes) {
    if (node.error !== undefined) errorLine(io.stderr, line(node.nodeId, node.error));
  }
  if (json) {
    println(io.stdout, toJson(result));
    return;
  }
  println(
    io.stdout,
    result.released ? `${result.key}: lock deleted` : `${result.key}: nothing deleted`,
  );
  println(io.stdout);
  printTable(
    io.stdout,
    result.nodes.map((node) => ({
      node: node.nodeId,
      address: node.address,
      outcome: node.outcome,
      fingerprint: node.fingerprint ?? '',
    })),
    'no node',
  );
}

import type { HeldLockEntry, LockListError } from '@shardlock/core';
import { CLUSTER_HELP } from './cluster-input.js';
import { commandClient, meetCluster, noRecord, nodeFailureLine } from './cluster.js';
import { EXIT } from './exit-codes.js';
import { println } from './io.js';
import { duration, errorLine, printTable, toJson } from './output.js';
import { integerFlag, type Subcommand } from './subcommand.js';

const USAGE = `Usage: shardlock locks [--match PATTERN] [--limit N] [options]

Held locks on every node, the longest remaining lease first: key, node, remaining TTL, the
holder's token fingerprint and the node's last fence (the holder's fence is at most this).
Every node is scanned (SCAN, a page at a time); a node that fails is reported on stderr and
the others are listed to the end (exit 1). In quorum mode a lock is listed once per replica
that holds it.

  --match PATTERN        Redis glob over lock keys, without the key prefix (default *)
  --limit N              show the N longest leases (default 100; all are counted)

${CLUSTER_HELP}`;

/** `shardlock locks`. */
export const LOCKS_COMMAND: Subcommand = {
  name: 'locks',
  usage: USAGE,
  flags: { match: { type: 'string' }, limit: { type: 'string' } },
  positionals: { min: 0, max: 0, name: 'arguments' },
  async run({ values, input, json, io }) {
    const limit = integerFlag(values.limit, 'limit', 100, 1, 100_000);
    const match = typeof values.match === 'string' ? values.match : '*';
    const cluster = await meetCluster(input, { needIds: false });
    const top = new Longest(limit);
    const errors: LockListError[] = [];
    if (cluster.hasRecord) {
      const client = commandClient(cluster.options);
      try {
        for await (const entry of client.locks({ match, count: 500, signal: io.signal })) {
          if (entry.kind === 'error') errors.push(entry);
          else top.add(entry);
        }
      } finally {
        await client.close();
      }
    } else {
      // Making a client here would write a record with this command's settings: no.
      errors.push(...noRecord(io, cluster));
    }
    for (const failed of errors) {
      errorLine(io.stderr, nodeFailureLine(cluster, failed.nodeId, failed.error));
    }
    const locks = top.sorted();
    if (json) {
      println(io.stdout, toJson({ locks, total: top.total, errors }));
    } else {
      printTable(
        io.stdout,
        locks.map((lock) => ({
          key: lock.key,
          node: lock.nodeId,
          ttl: duration(lock.ttl),
          fingerprint: lock.fingerprint,
          'node last fence': lock.lastFence.toString(),
        })),
        'no lock is held',
      );
      if (top.total > 0) {
        println(
          io.stdout,
          `\n${locks.length} of ${top.total} held locks shown, the longest remaining lease first`,
        );
      }
    }
    return errors.length > 0 ? EXIT.NODE_FAILED : EXIT.OK;
  },
};

/** The `limit` entries with the longest TTL seen so far, and how many were seen. */
class Longest {
  readonly #limit: number;
  /** Longest first. */
  readonly #kept: HeldLockEntry[] = [];
  total = 0;

  constructor(limit: number) {
    this.#limit = limit;
  }

  add(entry: HeldLockEntry): void {
    this.total++;
    const ttl = rank(entry);
    const kept = this.#kept;
    if (kept.length === this.#limit && ttl <= rank(kept[kept.length - 1]!)) return;
    let low = 0;
    let high = kept.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (rank(kept[mid]!) >= ttl) low = mid + 1;
      else high = mid;
    }
    kept.splice(low, 0, entry);
    if (kept.length > this.#limit) kept.pop();
  }

  sorted(): readonly HeldLockEntry[] {
    return this.#kept;
  }
}

/** A key that never expires (−1) outlasts every lease. */
function rank(entry: HeldLockEntry): number {
  return entry.ttl < 0 ? Number.POSITIVE_INFINITY : entry.ttl;
}

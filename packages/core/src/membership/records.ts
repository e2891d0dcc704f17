import type { ClusterRecord } from '../record.js';

/** A record as read from one node, with that node's clock at the reading. */
export interface ReadRecord {
  readonly record: ClusterRecord;
  /** The recording server's time when it was read, µs. */
  readonly nowUs: number;
}

/** What the records of a cluster say, for a client about to serve with `ids`. */
export interface RecordsReading {
  /** No node that answered holds any record: a brand-new cluster. */
  readonly fresh: boolean;
  /** Ids some record lists (serving or removed): they may have held leases. */
  readonly listed: ReadonlySet<string>;
  /** This client's ids that no record lists although the cluster is not new: added now. */
  readonly unlisted: readonly string[];
  /** This client's ids added less than a handoff window ago: ms of window left. */
  readonly added: ReadonlyMap<string, number>;
  /** Ids removed less than a handoff window ago that this client lacks: weight and ms left. */
  readonly removed: ReadonlyMap<string, { weight: number; left: number }>;
}

/**
 * Reads the records of every node that answered. Each record's times are on its own node's
 * clock, so ages are taken per record and the longest time left wins (the safe side).
 * @param records - one per node that answered
 * @param ids - this client's node ids
 * @param window - the handoff window, ms
 */
export function readRecords(
  records: readonly ReadRecord[],
  ids: readonly string[],
  window: number,
): RecordsReading {
  const listed = new Set<string>();
  const added = new Map<string, number>();
  const removed = new Map<string, { weight: number; left: number }>();
  let fresh = true;
  for (const { record, nowUs } of records) {
    if (record.settings !== undefined || record.members.size > 0) fresh = false;
    for (const [id, entry] of record.members) {
      listed.add(id);
      if (entry.sinceUs === 0) continue;
      const left = window - (nowUs - entry.sinceUs) / 1000;
      if (left <= 0) continue;
      if (entry.state === 'serving' && ids.includes(id)) {
        added.set(id, Math.max(added.get(id) ?? 0, left));
      } else if (entry.state === 'removed' && !ids.includes(id)) {
        const before = removed.get(id);
        if (before === undefined || before.left < left)
          removed.set(id, { weight: entry.weight, left });
      }
    }
  }
  const unlisted = fresh ? [] : ids.filter((id) => !listed.has(id));
  return { fresh, listed, unlisted, added, removed };
}

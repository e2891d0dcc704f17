import type { ClusterRecord, MemberEntry } from '../record.js';

/** A record as read from one node, with that node's clock at the reading. */
export interface ReadRecord {
  readonly record: ClusterRecord;
  /** The recording server's time when it was read, µs. */
  readonly nowUs: number;
  /** This client's time when it was read, ms. */
  readonly readAt: number;
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
  /**
   * Why this client's node list cannot be right, if it cannot: it names a node the cluster
   * removed, or lacks one that has served longer than a handoff window.
   */
  readonly stale: string | undefined;
}

/** Whether a record holds nothing yet: no settings, no member (a brand-new node's). */
export function isEmptyRecord(record: ClusterRecord): boolean {
  return record.settings === undefined && record.members.size === 0;
}

/** An id's most recent entry across the records, with its age in ms (Infinity: founding). */
interface Latest {
  readonly entry: MemberEntry;
  readonly age: number;
}

/**
 * Reads the records of every node that answered. Each record's times are on its own node's
 * clock, so ages are taken per record, as of `now` (a record read earlier is that much
 * older: found in the simulator, `pnpm sim --seed 815`, where a start held back by a hung
 * node took a serving entry read long before for younger than a later tombstone), and for
 * each id the youngest entry counts.
 * @param records - one per node that answered
 * @param ids - this client's node ids
 * @param window - the handoff window, ms
 * @param now - this client's time, ms
 */
export function readRecords(
  records: readonly ReadRecord[],
  ids: readonly string[],
  window: number,
  now: number,
  changing: ReadonlySet<string> = new Set(),
): RecordsReading {
  const latest = new Map<string, Latest>();
  let fresh = true;
  for (const { record, nowUs, readAt } of records) {
    if (!isEmptyRecord(record)) fresh = false;
    const since = now - readAt;
    for (const [id, entry] of record.members) {
      const age =
        entry.sinceUs === 0 ? Number.POSITIVE_INFINITY : (nowUs - entry.sinceUs) / 1000 + since;
      const before = latest.get(id);
      if (before === undefined || age < before.age) latest.set(id, { entry, age });
    }
  }
  const added = new Map<string, number>();
  const removed = new Map<string, { weight: number; left: number }>();
  let stale: string | undefined;
  for (const [id, { entry, age }] of latest) {
    // A change this client was asked to make before its start: it applies it right after.
    if (changing.has(id)) continue;
    const left = window - age;
    const mine = ids.includes(id);
    if (entry.state === 'serving') {
      if (mine && left > 0) added.set(id, left);
      // Missing here yet serving for longer than a window: not a change in progress.
      else if (!mine && left <= 0) {
        stale ??= `node ${JSON.stringify(id)} serves in the cluster but is not in this client's node list`;
      }
    } else if (mine) {
      stale ??= `node ${JSON.stringify(id)} was removed from the cluster but is in this client's node list`;
    } else if (left > 0) removed.set(id, { weight: entry.weight, left });
  }
  const listed = new Set(latest.keys());
  const unlisted = fresh ? [] : ids.filter((id) => !listed.has(id));
  return { fresh, listed, unlisted, added, removed, stale };
}

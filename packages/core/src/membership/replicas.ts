import { NodeQuarantinedError } from '../errors.js';
import { ContactPending, type Member } from './member.js';
import type { ReplicaSet } from './types.js';

/**
 * One replica set of `key` (quorum mode): its members with a connection, and those that may
 * vote now (met, up, past the restart quarantine, fences synced, not refused).
 * @throws {@link NodeQuarantinedError} when fewer than a majority may vote, with the time
 *   until the next one may; {@link ContactPending} when a member not met yet could
 */
export function replicaSet<T>(
  all: ReadonlyMap<string, Member<T>>,
  ids: readonly string[],
  key: string,
  now: number,
  detectionLag: number,
): ReplicaSet<T> {
  const members: T[] = [];
  const voters: T[] = [];
  let pending: string | undefined;
  let soonest = Number.POSITIVE_INFINITY;
  let blocker = ids[0]!;
  for (const id of ids) {
    const m = all.get(id);
    if (m?.handle === undefined) continue;
    members.push(m.handle);
    if (m.refusal !== undefined) continue;
    if (!m.known) {
      if (m.downSince === undefined) pending ??= id;
      continue;
    }
    if (m.downSince !== undefined) continue;
    if (now < m.trustAt || m.fenceSync.pending) {
      const at = Math.max(m.trustAt, now + 1);
      if (at < soonest) [soonest, blocker] = [at, id];
      continue;
    }
    voters.push(m.handle);
  }
  const majority = Math.floor(ids.length / 2) + 1;
  if (voters.length < majority) {
    if (pending !== undefined) throw new ContactPending(pending);
    const left = Number.isFinite(soonest) ? soonest - now : detectionLag;
    throw new NodeQuarantinedError(
      `only ${voters.length} of the ${ids.length} replicas of ${JSON.stringify(key)} can vote now (a majority is ${majority}); node ${JSON.stringify(blocker)} is the next that may`,
      Math.max(0, Math.ceil(left)),
      { key, nodeId: blocker },
    );
  }
  return { members, voters, majority };
}

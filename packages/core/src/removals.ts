import { memberField, memberValue, type ClusterRecord } from './record.js';

/**
 * The node ids this client removed, and when, so that a node that missed a removal's
 * tombstone (down or hung while it was written) gets it when this client meets it again.
 * Left out, its record says forever that the removed node serves, and a client started
 * later that reads that record alone refuses to start (docs/safety.md, late clients; found
 * in the simulator, `pnpm sim --seed 815`).
 */
export class Removals {
  readonly #at = new Map<string, number>();

  /** `id` was removed at `now` (this client's clock, ms). */
  removed(id: string, now: number): void {
    this.#at.set(id, now);
  }

  /** `id` is a member again: its old removal is no longer this client's to record. */
  rejoined(id: string): void {
    this.#at.delete(id);
  }

  /**
   * The tombstones a node's record lacks: ids this client removed that it lists as serving
   * since before their removal (a serving entry written after it is a later re-add, and
   * stays). Each is dated when its removal happened, on the node's clock, not now: a reader
   * must not take an old removal for one still in its window.
   * @param record - the node's record, as read
   * @param nowUs - the node's clock when it was read, µs
   * @param readAt - this client's clock when it was read, ms
   * @returns record-write triples (field, value, `s`); empty when nothing is owed
   */
  owed(record: ClusterRecord, nowUs: number, readAt: number): string[] {
    const triples: string[] = [];
    for (const [id, at] of this.#at) {
      const entry = record.members.get(id);
      if (entry?.state !== 'serving') continue;
      const removedUs = Math.floor(nowUs - (readAt - at) * 1000);
      if (entry.sinceUs >= removedUs) continue;
      triples.push(memberField(id), memberValue(entry.weight, 'removed', removedUs), 's');
    }
    return triples;
  }
}

import type { HashRing } from '@shardlock/ring';
import { ringOf, type View } from './views.js';

/**
 * The nodes this client's `addNode` is adding and has not joined yet, or failed to add less
 * than a handoff window ago (the operator retries it). Another client that did add such a node
 * may already place keys on it alone, its window over, while this client still places them by
 * the view without it (docs/safety.md, views and quorum; found in the simulator):
 * - quorum mode: while the call waits or after it failed, a grant here also needs a majority
 *   of each key's set in the view with these nodes, where they cannot vote (a client cut off
 *   from the added node granted on the old set alone after the adder's window ended);
 * - one owner per key: after it failed, a key that moves to the node waits (a client whose
 *   add failed as the node restarted granted a key on its old owner while the adder held it
 *   on the node).
 */
export class PendingAdds {
  readonly #adds = new Map<string, { weight: number; waiting: boolean; failedUntil: number }>();
  #ring: HashRing | undefined;
  #builtFor: View | undefined;
  #builtWith = '';

  /** `addNode(id)` began. */
  started(id: string, weight: number): void {
    const add = this.#adds.get(id);
    if (add === undefined) this.#adds.set(id, { weight, waiting: true, failedUntil: 0 });
    else add.waiting = true;
  }

  /** `addNode(id)` failed: it counts until `until`, and meanwhile while a new call waits. */
  failed(id: string, until: number): void {
    const add = this.#adds.get(id);
    if (add === undefined) return;
    add.waiting = false;
    add.failedUntil = until;
  }

  /** The node joined: the current view has it. */
  joined(id: string): void {
    this.#adds.delete(id);
  }

  /** ms from `now` until a failed add of `id` stops counting (0 when it does not). */
  failedFor(id: string, now: number): number {
    return Math.max(0, (this.#adds.get(id)?.failedUntil ?? 0) - now);
  }

  /**
   * The ring of `current` with the nodes that count now: those that failed less than a window
   * ago, and with `waiting`, those whose call waits; `undefined` when none does.
   */
  ring(current: View, now: number, vnodes: number, waiting: boolean): HashRing | undefined {
    if (this.#adds.size === 0) return undefined;
    const ids: string[] = [];
    for (const [id, add] of this.#adds) {
      if (now < add.failedUntil || (waiting && add.waiting)) ids.push(id);
      else if (!add.waiting) this.#adds.delete(id);
    }
    if (ids.length === 0) return undefined;
    const key = ids.join('\n');
    if (this.#ring === undefined || this.#builtFor !== current || this.#builtWith !== key) {
      const members = new Map(current.members);
      for (const id of ids) if (!members.has(id)) members.set(id, this.#adds.get(id)!.weight);
      this.#ring = ringOf({ members }, new Set(), vnodes);
      this.#builtFor = current;
      this.#builtWith = key;
    }
    return this.#ring;
  }
}

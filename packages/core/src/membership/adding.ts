import type { HashRing } from '@shardlock/ring';
import { ringOf, type View } from './views.js';

/**
 * Quorum mode: the nodes this client's `addNode` is adding and has not joined yet. The call
 * waits for the node, which may stay out of this client's reach for long (down, or cut off
 * from this client only), while a client that did add it may already use a key's new replica
 * set alone, its window over. Until the node joins here, a grant here also needs a majority
 * of each key's set in the view with these nodes, where they cannot vote (docs/safety.md,
 * quorum; found in the simulator: a client cut off from the added node granted on the old
 * set alone after the adder's window had ended). A failed call keeps its set for a handoff
 * window: the operator retries it.
 */
export class PendingAdds {
  readonly #adds = new Map<string, { weight: number; until: number }>();
  #ring: HashRing | undefined;
  #builtFor: View | undefined;

  /** `addNode(id)` began. */
  started(id: string, weight: number): void {
    this.#adds.set(id, { weight, until: Number.POSITIVE_INFINITY });
    this.#ring = undefined;
  }

  /** `addNode(id)` failed: its set counts until `until`, unless a new call begins. */
  failed(id: string, until: number): void {
    const add = this.#adds.get(id);
    if (add !== undefined) add.until = until;
  }

  /** The node joined: the current view has it. */
  joined(id: string): void {
    if (this.#adds.delete(id)) this.#ring = undefined;
  }

  /** The ring of `current` with the pending nodes; `undefined` when there are none. */
  ring(current: View, now: number, vnodes: number): HashRing | undefined {
    for (const [id, add] of this.#adds) {
      if (now < add.until) continue;
      this.#adds.delete(id);
      this.#ring = undefined;
    }
    if (this.#adds.size === 0) return undefined;
    if (this.#ring === undefined || this.#builtFor !== current) {
      const members = new Map(current.members);
      for (const [id, { weight }] of this.#adds) if (!members.has(id)) members.set(id, weight);
      this.#ring = ringOf({ members }, new Set(), vnodes);
      this.#builtFor = current;
    }
    return this.#ring;
  }
}

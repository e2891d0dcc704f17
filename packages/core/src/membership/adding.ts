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
  /** Rises with every change of what counts; the ring is built again only then. */
  #version = 0;
  /** The earliest `failedUntil` still ahead: until then, nothing stops counting by time. */
  #expiresAt = Number.POSITIVE_INFINITY;
  #built:
    { version: number; current: View; waiting: boolean; ring: HashRing | undefined } | undefined;

  /** `addNode(id)` began. */
  started(id: string, weight: number): void {
    const add = this.#adds.get(id);
    if (add === undefined) this.#adds.set(id, { weight, waiting: true, failedUntil: 0 });
    else add.waiting = true;
    this.#version++;
  }

  /** `addNode(id)` failed: it counts until `until`, and meanwhile while a new call waits. */
  failed(id: string, until: number): void {
    const add = this.#adds.get(id);
    if (add === undefined) return;
    add.waiting = false;
    add.failedUntil = until;
    this.#expiresAt = Math.min(this.#expiresAt, until);
    this.#version++;
  }

  /** The node joined: the current view has it. */
  joined(id: string): void {
    if (this.#adds.delete(id)) this.#version++;
  }

  /** ms from `now` until a failed add of `id` stops counting (0 when it does not). */
  failedFor(id: string, now: number): number {
    return Math.max(0, (this.#adds.get(id)?.failedUntil ?? 0) - now);
  }

  /**
   * The ring of `current` with the nodes that count now: those that failed less than a window
   * ago, and with `waiting`, those whose call waits; `undefined` when none does. Built only
   * when what counts changed: nothing is allocated on a route otherwise.
   */
  ring(current: View, now: number, vnodes: number, waiting: boolean): HashRing | undefined {
    if (this.#adds.size === 0) return undefined;
    if (now >= this.#expiresAt) this.#expire(now);
    const built = this.#built;
    if (
      built?.version === this.#version &&
      built.current === current &&
      built.waiting === waiting
    ) {
      return built.ring;
    }
    let members: Map<string, number> | undefined;
    for (const [id, add] of this.#adds) {
      if (!(now < add.failedUntil || (waiting && add.waiting)) || current.members.has(id)) continue;
      (members ??= new Map(current.members)).set(id, add.weight);
    }
    const ring = members === undefined ? undefined : ringOf({ members }, new Set(), vnodes);
    this.#built = { version: this.#version, current, waiting, ring };
    return ring;
  }

  /** A failed add's window ended: it stops counting, and is forgotten unless a call waits. */
  #expire(now: number): void {
    this.#expiresAt = Number.POSITIVE_INFINITY;
    for (const [id, add] of this.#adds) {
      if (now < add.failedUntil) this.#expiresAt = Math.min(this.#expiresAt, add.failedUntil);
      else if (!add.waiting) this.#adds.delete(id);
    }
    this.#version++;
  }
}

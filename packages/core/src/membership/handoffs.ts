import type { HashRing } from '@shardlock/ring';
import type { View } from './views.js';

/**
 * A window during which keys must also win where some other client may still place them
 * (docs/safety.md, "views"):
 * - `view`: an earlier set of members (before an add or a remove this client made, or one
 *   the cluster's record shows another client made);
 * - `maybe`: a node other clients may have failed over and not taken back yet (it came
 *   back, was met for the first time, or this process stalled).
 * A window ends once its time has passed and a fence sync has succeeded.
 */
export interface Handoff {
  readonly kind: 'view' | 'maybe';
  /** The node the change concerns. */
  readonly nodeId: string;
  /** For `view`: the earlier members. */
  readonly view: View | undefined;
  /** For `view`: the ring of the earlier members, failed-over nodes left out; rebuilt with them. */
  ring: HashRing | undefined;
  /**
   * For `maybe` windows opened while every member was failed over: the ring of every member.
   * Another client may have a different node back first and place keys there alone.
   */
  readonly whole?: HashRing | undefined;
  readonly epoch: number;
  readonly until: number;
  /** A fence sync is running for it. */
  syncing: boolean;
  /** When a failed fence sync may be tried again. */
  retryAt: number;
}

/** Ids of the nodes open `maybe` windows name. */
export function maybeFailedOver(handoffs: readonly Handoff[]): ReadonlySet<string> {
  const ids = new Set<string>();
  for (const h of handoffs) if (h.kind === 'maybe') ids.add(h.nodeId);
  return ids;
}

/**
 * The ids a client that places keys by `ring` may use for `key`, given that it may have
 * failed over any of the `maybe` nodes: the key's preference list up to and including the
 * first node not among them (whatever subset another client failed over, its owner is one
 * of these).
 */
export function candidates(ring: HashRing, key: string, maybe: ReadonlySet<string>): string[] {
  if (ring.size === 0) return [];
  if (maybe.size === 0) return [ring.owner(key)];
  const list = ring.owners(key, Math.min(ring.size, maybe.size + 1));
  const until = list.findIndex((id) => !maybe.has(id));
  return until < 0 ? list : list.slice(0, until + 1);
}

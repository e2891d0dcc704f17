import { HashRing } from '@shardlock/ring';

/**
 * A set of nodes some client may be using to place keys: this client's current members, or
 * an earlier set that a handoff still honours. Which of them are failed over is applied on
 * top, at the moment a ring is built (docs/safety.md, "views").
 */
export interface View {
  /** Node id → weight. */
  readonly members: ReadonlyMap<string, number>;
}

/** A view of (a copy of) `members`. */
export function viewOf(members: ReadonlyMap<string, number>): View {
  return { members: new Map(members) };
}

/** `view` without member `id`. */
export function viewWithout(view: View, id: string): View {
  const members = new Map(view.members);
  members.delete(id);
  return { members };
}

/** The ring a view places keys on, given which nodes are failed over now. */
export function ringOf(view: View, failedOver: ReadonlySet<string>, vnodes: number): HashRing {
  const nodes: { id: string; weight: number }[] = [];
  for (const [id, weight] of view.members) if (!failedOver.has(id)) nodes.push({ id, weight });
  return new HashRing(nodes, { vnodes });
}

const SAMPLE_KEYS = Array.from({ length: 4096 }, (_, i) => `probe:${i}`);

/** The share of keys whose owner differs between two rings (sampled over 4,096 keys). */
export function movedShare(before: HashRing, after: HashRing): number {
  if (before.size === 0 || after.size === 0) return before.size === after.size ? 0 : 1;
  let moved = 0;
  for (const key of SAMPLE_KEYS) if (before.owner(key) !== after.owner(key)) moved++;
  return moved / SAMPLE_KEYS.length;
}

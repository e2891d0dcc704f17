// The node ids every section builds its rings of: fixed, or drawn from a fixed seed, so that
// every run measures the same rings.

/** Random id sets per ring size. */
export const ID_SETS = 20;
/** Seed of the random ids; the sets of `n` nodes are drawn from `ID_SEED + n`. */
export const ID_SEED = 0x5eed;

/** `count` ids `node-0` … `node-<count - 1>`. */
export const nodeIds = (count: number): string[] =>
  Array.from({ length: count }, (_, i) => `node-${i}`);

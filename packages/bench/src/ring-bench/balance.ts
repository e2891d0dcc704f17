// Balance: how far the fullest and emptiest nodes are from their fair share, for the ids
// node-0 … node-n and for seeded random ids, exact and sampled.
import { DEFAULT_RING_OPTIONS, HashRing } from '@shardlock/ring';
import type { TableRow } from '../report.js';
import { balance, median, randomIdSets, sampledBalance } from '../ring-metrics.js';
import { fixed, int, progress } from './format.js';
import { ID_SEED, ID_SETS } from './inputs.js';
import { TARGET, verdict, type BenchResults } from './results.js';

/** Keys sampled for the balance a client would see. */
export const SAMPLED_KEYS = 2_000_000;

/**
 * The `vnodes` tried on the random id sets of 10 nodes: the default, and half and twice it,
 * so the table shows what a looser or a tighter spread costs and buys.
 */
export const VNODES_COMPARED: readonly number[] = [
  DEFAULT_RING_OPTIONS.vnodes / 2,
  DEFAULT_RING_OPTIONS.vnodes,
  DEFAULT_RING_OPTIONS.vnodes * 2,
];

interface Extremes {
  readonly maxOverMean: number;
  readonly minOverMean: number;
}

/** Measures the balance of `rings` (default options) and records their targets. */
export function balanceSection(results: BenchResults, rings: readonly HashRing[]): void {
  progress('balance…');
  const rows: TableRow[] = [];
  const notes: string[] = [];
  for (const ring of rings) {
    const limit = ring.size === 10 ? TARGET.balance10 : TARGET.balance100;
    const bound = `≤ ${limit.toFixed(2)}`;
    const row = (
      ids: string,
      method: string,
      { maxOverMean, minOverMean }: Extremes,
      vnodes = ring.options.vnodes,
    ): void => {
      rows.push({
        nodes: ring.size,
        vnodes,
        ids,
        method,
        'max/mean': fixed(maxOverMean),
        'min/mean': fixed(minOverMean),
        target: bound,
        verdict: verdict(maxOverMean <= limit),
      });
    };
    const name = `node-0…node-${ring.size - 1}`;
    const methods = [
      ['exact (arcs)', balance(ring)],
      [`sampled, ${int(SAMPLED_KEYS)} keys`, sampledBalance(ring, SAMPLED_KEYS)],
    ] as const;
    for (const [method, result] of methods) {
      row(name, method, result);
      const ok = result.maxOverMean <= limit;
      results.target(
        `balance, ${ring.size} nodes ${name}, ${method}`,
        fixed(result.maxOverMean),
        bound,
        ok,
      );
    }
    const sets = randomIdSets(ID_SETS, ring.size, ID_SEED + ring.size);
    const tried = ring.size === 10 ? VNODES_COMPARED : [ring.options.vnodes];
    for (const vnodes of tried) {
      const found = sets.map((set) => balance(new HashRing(set, { vnodes })));
      const maxima = found.map((result) => result.maxOverMean);
      const minima = found.map((result) => result.minOverMean);
      const over = maxima.filter((max) => max > limit).length;
      const worst = { maxOverMean: Math.max(...maxima), minOverMean: Math.min(...minima) };
      const middle = { maxOverMean: median(maxima), minOverMean: median(minima) };
      row('random', `exact, worst of ${ID_SETS} sets`, worst, vnodes);
      row('random', `exact, median of ${ID_SETS} sets`, middle, vnodes);
      const tally = `${over} of ${ID_SETS} sets over ${limit.toFixed(2)}`;
      const isDefault = vnodes === ring.options.vnodes;
      notes.push(
        `${ring.size} random ids, vnodes ${vnodes}${isDefault ? ' (default)' : ''}: ${tally}.`,
      );
      if (isDefault) {
        results.target(
          `balance, ${ring.size} nodes, ${ID_SETS} random id sets`,
          `${over} of ${ID_SETS} over`,
          `${bound} each`,
          over === 0,
        );
      }
    }
  }
  results.section(
    `Balance (murmur3, seed 0; vnodes ${DEFAULT_RING_OPTIONS.vnodes} is the default)`,
    rows,
    [
      'max/mean: the largest node share over the fair share 1/nodes (min/mean: the smallest). Exact from the arcs of `shares()`; sampled from the owners of keys `sample:0`, `sample:1`, …',
      `random: ${ID_SETS} sets of ids \`node-\` + 8 hex digits drawn by a seeded PRNG (seed ${ID_SEED} + nodes), the same in every run; with 10 nodes they are tried at half, once and twice the default vnodes.`,
      ...notes,
    ],
  );
}

// Build, change and memory: what a ring costs to make, to change and to hold, at the default
// vnodes and, for 10 nodes, at half and twice it.
import { HashRing } from '@shardlock/ring';
import type { TableRow } from '../report.js';
import { VNODES_COMPARED } from './balance.js';
import { fixed, int, progress } from './format.js';
import { nodeIds } from './inputs.js';
import type { BenchResults } from './results.js';

/** Untimed runs before the timed ones, so the code is compiled and the heap grown. */
export const WARMUP_RUNS = 2;

type Case = [operation: string, build: () => HashRing, runs: number];

/** Times building and changing rings; then reports the memory of `rings` and of those built. */
export function buildSection(results: BenchResults, rings: readonly HashRing[]): void {
  progress('build, change, memory…');
  const ids1000 = nodeIds(1000);
  const ring1000 = new HashRing(ids1000);
  const ids10 = nodeIds(10);
  let added = 0;
  let removed = 0;
  const cases: Case[] = [
    ...VNODES_COMPARED.map((vnodes): Case => [
      `new HashRing(10 nodes), vnodes ${vnodes}`,
      () => new HashRing(ids10, { vnodes }),
      20,
    ]),
    ['new HashRing(100 nodes)', () => new HashRing(nodeIds(100)), 20],
    ['new HashRing(1,000 nodes)', () => new HashRing(ids1000), 8],
    ['ring(1,000 nodes).add(node)', () => ring1000.add(`extra-${added++}`), 12],
    ['ring(1,000 nodes).remove(id)', () => ring1000.remove(`node-${removed++}`), 12],
  ];
  const rows = cases.map(([operation, build, runs]): TableRow => {
    for (let i = 0; i < WARMUP_RUNS; i++) results.keep(build().size);
    const ms = Array.from({ length: runs }, () => {
      const start = performance.now();
      const ring = build();
      const elapsed = performance.now() - start;
      results.keep(ring.size);
      return elapsed;
    });
    const mean = ms.reduce((a, b) => a + b, 0) / runs;
    return {
      operation,
      'mean ms': fixed(mean, 1),
      'min ms': fixed(Math.min(...ms), 1),
      'max ms': fixed(Math.max(...ms), 1),
      runs,
    };
  });
  results.section(`Build and change (performance.now(), after ${WARMUP_RUNS} untimed runs)`, rows, [
    `Rows without a vnodes use the default. ${int(ring1000.pointCount)} points at ${int(ring1000.size)} nodes; add() and remove() hash only the new node’s labels, then sort all points again.`,
  ]);
  const compared = VNODES_COMPARED.filter((vnodes) => vnodes !== ring1000.options.vnodes);
  const memory = [...rings, ...compared.map((vnodes) => new HashRing(ids10, { vnodes })), ring1000];
  results.section(
    'Memory (lookup arrays: points, owners, bucket index)',
    memory
      .sort((a, b) => a.size - b.size || a.options.vnodes - b.options.vnodes)
      .map((ring) => ({
        nodes: int(ring.size),
        vnodes: ring.options.vnodes,
        points: int(ring.pointCount),
        bytes: int(ring.byteLength),
        'bytes / point': fixed(ring.byteLength / ring.pointCount, 2),
      })),
  );
}

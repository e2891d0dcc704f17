import { expect, it } from 'vitest';
import { runChaos, summaryLine } from './checker.js';

// The bounded run in quorum mode (3 replicas per key): every node fault and every partition
// one client process sees (cut off from one node, a minority, a majority, its replies lost
// from a majority), once each. `pnpm chaos --replicas 3 --partitions` runs the soak.
it('quorum mode keeps mutual exclusion and rising fences through node faults and partitions', async () => {
  const summary = await runChaos(
    {
      durationMs: 0,
      seed: 20261129,
      maxTtl: 500,
      nodes: 4,
      childProcesses: 2,
      keys: 8,
      replicas: 3,
      partitions: true,
    },
    (line) => {
      console.log(line);
    },
  );
  console.log(summaryLine(summary));
  expect(summary.violations).toEqual([]);
  expect(summary.fenceRegressions).toEqual([]);
  expect(Object.keys(summary.faults)).toHaveLength(10);
  for (const count of Object.values(summary.faults)) expect(count).toBeGreaterThan(0);
  expect(summary.grants).toBeGreaterThan(1_000);
}, 300_000);

import { expect, it } from 'vitest';
import { runChaos, summaryLine } from './checker.js';

// A bounded run of the checker: every fault type once (kill -9 then empty restart, SIGSTOP
// past maxTtl, quick empty restart, add, remove, SIGSTOP of a client process), clients in
// this process and in two child processes. `pnpm chaos` runs the long soak.
it('keeps mutual exclusion and rising fences through every fault type', async () => {
  const summary = await runChaos(
    { durationMs: 0, seed: 20261122, maxTtl: 500, nodes: 4, childProcesses: 2, keys: 8 },
    (line) => {
      console.log(line);
    },
  );
  console.log(summaryLine(summary));
  expect(summary.violations).toEqual([]);
  expect(summary.fenceRegressions).toEqual([]);
  for (const count of Object.values(summary.faults)) expect(count).toBeGreaterThan(0);
  expect(summary.grants).toBeGreaterThan(1_000);
}, 180_000);

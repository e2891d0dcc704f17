import { expect, it } from 'vitest';
import { runChaos, summaryLine } from './checker.js';

// The long soak behind `pnpm chaos` (scripts/chaos.mjs sets these and enables this project).
const durationMs = Number(process.env.SHARDLOCK_CHAOS_DURATION_MS);
const seed = Number(process.env.SHARDLOCK_CHAOS_SEED);

it(
  `keeps mutual exclusion and rising fences for ${durationMs / 1000} s of faults (seed ${seed})`,
  async () => {
    const summary = await runChaos(
      { durationMs, seed, maxTtl: 500, nodes: 4, childProcesses: 2, keys: 8 },
      (line) => {
        console.log(line);
      },
    );
    console.log(summaryLine(summary));
    console.log(`failures by code: ${JSON.stringify(summary.failures)}`);
    for (const line of summary.violations.slice(0, 20)) console.log(`violation: ${line}`);
    for (const line of summary.fenceRegressions.slice(0, 20))
      console.log(`fence regression: ${line}`);
    expect(summary.violations).toEqual([]);
    expect(summary.fenceRegressions).toEqual([]);
    for (const count of Object.values(summary.faults)) expect(count).toBeGreaterThan(0);
  },
  durationMs + 300_000,
);

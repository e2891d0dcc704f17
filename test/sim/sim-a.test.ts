import { expect, it } from 'vitest';
import { runSchedules } from './run.js';

// The deterministic simulator (docs/safety.md): the real client against simulated servers
// on a virtual clock, over random schedules of crashes, empty restarts, pauses, lost replies,
// membership changes applied after each client's own lag, late and stalled clients, skewed
// clocks and mismatched settings. Half of `pnpm test`'s 2,000 schedules here, half in the
// other sim file, so that both cores run them. A failure prints the schedule and the seed and
// path that replay it: `pnpm sim --schedules N --seed S --path P`.

it('keeps every guarantee over 1,000 random schedules (seed 20261129)', async () => {
  const line = await runSchedules(1_000, 20261129);
  console.log(line);
  expect(line).toMatch(/^sim: 1000 schedules/);
}, 600_000);

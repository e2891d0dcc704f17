import { expect, it } from 'vitest';
import { problemsOf } from './oracle.js';
import { runSchedules } from './run.js';
import type { Schedule } from './schedule.js';
import { World } from './world.js';

// `pnpm sim` (scripts/sim.mjs): the deterministic simulator over many schedules, with the
// seed (and fast-check path) to replay one; or one schedule, traced event by event.
// `pnpm test` runs sim-a, sim-b and sim-q instead.
const runs = Number(process.env.SHARDLOCK_SIM_RUNS ?? 20_000);
const seed = Number(process.env.SHARDLOCK_SIM_SEED ?? 1);
const trace = process.env.SHARDLOCK_SIM_TRACE;
const mode = process.env.SHARDLOCK_SIM_MODE === 'quorum' ? 'quorum' : 'one-owner';

if (trace === undefined) {
  it(`keeps every guarantee over ${runs} random schedules (seed ${seed})`, async () => {
    const { SHARDLOCK_SIM_PATH: path, SHARDLOCK_SIM_FOCUS: focus } = process.env;
    console.log(await runSchedules(runs, seed, path, mode, focus));
    expect(runs).toBeGreaterThan(0);
  }, 86_400_000);
} else {
  it('traces one schedule', async () => {
    const grep = new RegExp(process.env.SHARDLOCK_SIM_GREP ?? '');
    const lines: string[] = [];
    const result = await new World(JSON.parse(trace) as Schedule, (line) => {
      if (grep.test(line)) lines.push(line);
    }).run();
    const problems = problemsOf(result);
    console.log([...lines, ...problems].join('\n'));
    expect(problems).toEqual([]);
  }, 600_000);
}

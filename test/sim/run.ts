import fc from 'fast-check';
import { focuses } from './focus.js';
import { problemsOf } from './oracle.js';
import { quorumSchedules, schedules, type Schedule } from './schedule.js';
import { World } from './world.js';

/** Runs one schedule; throws with every problem it found. Returns the events it took. */
export async function check(schedule: Schedule): Promise<number> {
  const result = await new World(schedule).run();
  const problems = problemsOf(result);
  if (problems.length > 0) {
    throw new Error(`${problems.length} problems:\n${problems.slice(0, 8).join('\n')}`);
  }
  return result.events;
}

/**
 * Runs `runs` random schedules from `seed` (fast-check generates and, on a failure, shrinks
 * them; its report names the seed and path that replay the failing schedule exactly).
 * @param focus - a name from `focus.ts`: schedules of that shape instead
 * @returns the line of figures to print
 */
export async function runSchedules(
  runs: number,
  seed: number,
  path?: string,
  mode: 'one-owner' | 'quorum' = 'one-owner',
  focus?: string,
): Promise<string> {
  let events = 0;
  let done = 0;
  const started = performance.now();
  const drawn = focus === undefined ? undefined : focuses[focus];
  if (focus !== undefined && drawn === undefined) {
    throw new Error(`no focus ${JSON.stringify(focus)}: one of ${Object.keys(focuses).join(', ')}`);
  }
  const arbitrary = drawn ?? (mode === 'quorum' ? quorumSchedules : schedules);
  await fc.assert(
    fc.asyncProperty(arbitrary, async (schedule) => {
      events += await check(schedule);
      done++;
    }),
    { numRuns: runs, seed, ...(path === undefined ? {} : { path }), endOnFailure: true },
  );
  const seconds = (performance.now() - started) / 1000;
  const label = focus === undefined ? (mode === 'quorum' ? ' (quorum)' : '') : ` (focus ${focus})`;
  return `sim${label}: ${done} schedules, ${events} events in ${seconds.toFixed(1)} s (${(done / seconds).toFixed(0)} schedules/s), seed ${seed}`;
}

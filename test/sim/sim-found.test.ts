import { expect, it } from 'vitest';
import { check } from './run.js';
import type { Schedule } from './schedule.js';

// Schedules that long `pnpm sim` runs found, each replayed exactly on every `pnpm test`, so
// that a fix cannot quietly come undone while random schedules look elsewhere. Each names
// the run that found it and the rule it broke (docs/safety.md).
const found: readonly (readonly [string, Schedule])[] = [
  [
    // A client started while n1 hung; its addNode(n3) waited for the start, which then
    // routed k3 on the list without n3, 3.8 s after the others had moved k3 there.
    'seed 11, schedule 9,464: a change asked of a client still starting (late clients)',
    {
      seed: -1118496433,
      scale: 6,
      nodes: 3,
      clients: 3,
      workers: 3,
      skews: [-1, -4, 13, -16, 19, -16, 7, -14, -1],
      faults: [
        { at: 163, type: 'late', settings: 'same' },
        { at: 203, type: 'add', lags: [96, 73, 55, 159, 76, 180, 134, 61] },
        { at: 81, type: 'pause', node: 4, duration: 809 },
      ],
    },
  ],
];

it.each(found)('replays %s', async (_name, schedule) => {
  expect(await check(schedule)).toBeGreaterThan(0);
});

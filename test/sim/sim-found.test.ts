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
  [
    // Every node but n1 was failed over when the operator removed n1: two clients refused
    // it as "the last serving node" and kept routing k0 to n1 alone.
    'seed 14, schedule 4,014: a removal refused while the other nodes were failed over (views)',
    {
      seed: -101161315,
      scale: 1,
      nodes: 4,
      clients: 3,
      workers: 3,
      skews: [-2, 11, -2, 1, -14, -18, -4, 1, 0],
      faults: [
        { at: 892, type: 'kill', node: 0, downFor: 566, lateAfter: 220 },
        { at: 810, type: 'kill', node: 2, downFor: 678, lateAfter: 160 },
        { at: 704, type: 'pause', node: 3, duration: 708 },
        { at: 1257, type: 'remove', node: 1, lags: [13, 36, 183, 56, 41, 194, 153, 113] },
      ],
    },
  ],
];

it.each(found)('replays %s', async (_name, schedule) => {
  expect(await check(schedule)).toBeGreaterThan(0);
});

import { expect, it } from 'vitest';
import { runSchedules } from './run.js';

// The simulator in quorum mode (3 replicas per key): every fault of the one-owner schedules
// and partitions one client process sees, with server clocks that agree or are seconds
// apart. `pnpm sim --replicas 3` runs more.

it('keeps every guarantee in quorum mode over 500 random schedules (seed 20261129)', async () => {
  const line = await runSchedules(500, 20261129, undefined, 'quorum');
  console.log(line);
  expect(line).toMatch(/^sim \(quorum\): 500 schedules/);
}, 600_000);

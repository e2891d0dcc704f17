import { describe, expect, it } from 'vitest';
import { readRecords, type ReadRecord } from '../src/membership/records.js';
import type { ClusterRecord, MemberEntry } from '../src/record.js';
import { Removals } from '../src/removals.js';

const WINDOW = 400;

function record(members: Record<string, MemberEntry>): ClusterRecord {
  return {
    settings: 'maxTtl=200',
    self: undefined,
    incarnation: undefined,
    raised: undefined,
    members: new Map(Object.entries(members)),
  };
}
const serving = (sinceUs: number): MemberEntry => ({ weight: 1, state: 'serving', sinceUs });
const removed = (sinceUs: number): MemberEntry => ({ weight: 1, state: 'removed', sinceUs });

describe('readRecords', () => {
  // Found in the simulator (`pnpm sim --seed 815`): a start held back by a hung node read one
  // record 570 ms before the other. Aged as of its own reading, the older record's serving
  // entry looked younger than the later tombstone, and the client refused to start.
  it('ages every record to the same moment: the one read earlier counts as older', () => {
    const NOW = 10_000;
    const records: ReadRecord[] = [
      // Read 600 ms ago: n3 served since 1,100 ms before that reading.
      {
        record: record({ n0: serving(0), n3: serving(1_000_000) }),
        nowUs: 2_100_000,
        readAt: NOW - 600,
      },
      // Read now: n3 was removed 1,200 ms ago, after it was added.
      { record: record({ n0: serving(0), n3: removed(1_000_000) }), nowUs: 2_200_000, readAt: NOW },
    ];
    const reading = readRecords(records, ['n0'], WINDOW, NOW);
    expect(reading.stale).toBeUndefined();
  });

  it('still finds a node that serves in the cluster but is missing from the list', () => {
    const records: ReadRecord[] = [
      { record: record({ n0: serving(0), n3: serving(1_000_000) }), nowUs: 2_100_000, readAt: 0 },
    ];
    expect(readRecords(records, ['n0'], WINDOW, 0).stale).toMatch(/"n3" serves in the cluster/);
  });
});

describe('Removals', () => {
  // Found in the simulator (`pnpm sim --seed 815`): a node hung through a removal kept the
  // removed node serving in its record for good.
  it('owes a node that lists a removed id as serving since before the removal its tombstone', () => {
    const removals = new Removals();
    removals.removed('n3', 1_000);
    // Read at 3,000 ms here, 9,000,000 µs on the node: the removal was 2 s before.
    const owed = removals.owed(record({ n3: serving(5_000_000) }), 9_000_000, 3_000);
    expect(owed).toEqual(['m:n3', '1:r:7000000', 's']);
  });

  it('owes nothing for a serving entry younger than the removal (a re-add), nor once rejoined', () => {
    const removals = new Removals();
    removals.removed('n3', 1_000);
    expect(removals.owed(record({ n3: serving(8_000_000) }), 9_000_000, 3_000)).toEqual([]);
    expect(removals.owed(record({ n3: removed(7_000_000) }), 9_000_000, 3_000)).toEqual([]);
    removals.rejoined('n3');
    expect(removals.owed(record({ n3: serving(5_000_000) }), 9_000_000, 3_000)).toEqual([]);
  });
});

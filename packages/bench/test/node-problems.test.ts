import { describe, expect, it } from 'vitest';
import { parseRecord } from '@shardlock/core/internal';
import { nodeProblems, type ProblemInput } from '../src/commands/node-problems.js';

const SETTINGS = 'maxTtl=60000;driftFactor=0.01;vnodes=4096;replicas=1';

const healthy: ProblemInput = {
  id: 'n0',
  error: undefined,
  policy: 'noeviction',
  maxmemory: 0,
  uptimeSeconds: 3_600,
  record: parseRecord(['settings', SETTINGS, 'self', 'n0']),
  quarantineMs: 60_602,
  settings: SETTINGS,
  othersHaveRecord: true,
};

const codes = (input: Partial<ProblemInput>): string[] =>
  nodeProblems({ ...healthy, ...input }).map((p) => p.code);

describe('nodeProblems', () => {
  it('finds nothing wrong with a healthy node', () => {
    expect(nodeProblems(healthy)).toEqual([]);
  });

  it('an unreachable node has that one problem, with its cause', () => {
    expect(nodeProblems({ ...healthy, error: 'connect ECONNREFUSED 127.0.0.1:1' })).toEqual([
      { code: 'unreachable', message: 'connect ECONNREFUSED 127.0.0.1:1' },
    ]);
  });

  it('eviction: allkeys-* always; volatile-* only with a memory limit', () => {
    expect(codes({ policy: 'allkeys-lru' })).toEqual(['eviction']);
    expect(codes({ policy: 'allkeys-random', maxmemory: 0 })).toEqual(['eviction']);
    expect(codes({ policy: 'volatile-ttl', maxmemory: 0 })).toEqual([]);
    expect(codes({ policy: 'volatile-lru', maxmemory: 100 * 2 ** 20 })).toEqual(['eviction']);
    expect(codes({ policy: undefined })).toEqual([]);
  });

  it('young: started less than maxTtl + drift ago', () => {
    expect(codes({ uptimeSeconds: 60 })).toEqual(['young']);
    expect(codes({ uptimeSeconds: 61 })).toEqual([]);
    expect(nodeProblems({ ...healthy, uptimeSeconds: 5 })[0]!.message).toMatch(
      /^started 5 s ago, less than maxTtl \+ drift \(60\.6 s\)/,
    );
  });

  it('settings and identity that disagree with the record, naming what differs', () => {
    const record = parseRecord([
      'settings',
      'maxTtl=5000;driftFactor=0.01;vnodes=4096;replicas=3',
      'self',
      'n7',
    ]);
    const problems = nodeProblems({ ...healthy, record });
    expect(problems.map((p) => p.code)).toEqual(['settings', 'identity']);
    expect(problems[0]!.message).toContain(
      'maxTtl 5000 in its record, 60000 here; replicas 3 in its record, 1 here',
    );
    expect(problems[1]!.message).toContain('names this server "n7", the command calls it "n0"');
  });

  it('no record: a problem only when other nodes have one', () => {
    expect(codes({ record: undefined })).toEqual(['no-record']);
    expect(codes({ record: undefined, othersHaveRecord: false })).toEqual([]);
  });
});

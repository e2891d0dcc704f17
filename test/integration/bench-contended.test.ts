import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseBenchArgs } from '../../packages/bench/src/args.js';
import { writeOutDir } from '../../packages/bench/src/output-files.js';
import { runBench } from '../../packages/bench/src/run.js';
import { stopAllNodes, startNodes, type RedisNode } from '../harness/index.js';

// The load processes run the built child (packages/bench/dist/clients/load-child.js): the
// suite builds first (`pnpm test` runs `tsc --build`).

describe('a tiny contended run from two load processes', () => {
  let nodes: RedisNode[];
  beforeAll(async () => {
    nodes = await startNodes(2);
  });
  afterAll(async () => {
    await stopAllNodes();
  });

  it('reports grants, utilisation, handoff gaps and commands per grant for every contender', async () => {
    const contenders = ['shardlock', 'semaphore', 'raw', 'redlock-universal'];
    const args = parseBenchArgs([
      '--nodes',
      nodes.map((n) => `127.0.0.1:${n.port}`).join(','),
      '--duration',
      '0.5',
      '--rounds',
      '1',
      '--concurrency',
      '16',
      '--clients',
      '2',
      '--keys',
      '2',
      '--hold',
      '1',
      '--contenders',
      contenders.join(','),
    ]);
    const lines: string[] = [];
    const report = await runBench(
      args,
      { line: (text) => lines.push(text), progress: undefined },
      new AbortController().signal,
    );
    expect(lines).toContain('  load from 2 processes');
    expect(report.workload).toMatchObject({ keySpace: 2, clients: 2, waitTimeoutMs: 10_000 });
    expect(report.results.map((r) => r.contender)).toEqual(contenders);
    for (const r of report.results) {
      const c = r.contended!;
      expect(r.clients).toBe(2);
      expect(r.errors).toBe(0);
      // 16 waiters on 2 keys held 1 ms each, waiting up to 10 s: nobody gives up.
      expect(r.failures).toBe(0);
      expect(c.grants).toBeGreaterThan(0);
      expect(c.grantsPerSecond).toBeGreaterThan(0);
      expect(c.idealGrantsPerSecond).toBe(2_000);
      expect(c.ofIdeal).toBeGreaterThan(0);
      expect(c.ofIdeal).toBeLessThanOrEqual(1);
      expect(c.utilisation).toBeGreaterThan(0);
      expect(c.utilisation).toBeLessThanOrEqual(1);
      // Every hold lasts at least --hold.
      expect(c.holdMeanMs).toBeGreaterThanOrEqual(1);
      // Keys are always wanted here, so releases with waiters abound.
      expect(c.handoffGapMicros.count).toBeGreaterThan(0);
      expect(c.handoffGapMicros.p50).toBeLessThanOrEqual(c.handoffGapMicros.p99);
      expect(c.handoffGapPercentiles.length).toBeGreaterThan(0);
      expect(r.commandsPerGrant).toBeGreaterThan(0);
      expect(r.pairsPerCpuSecond).toBeGreaterThan(0);
      expect(r.acquireMicros.count).toBe(r.pairs);
    }
    // The counted commands are the lock path's own.
    const raw = report.results.find((r) => r.contender === 'raw')!;
    expect(raw.commands.set).toBeGreaterThan(0);
    expect(raw.commands.evalsha).toBeGreaterThan(0);
    const dir = mkdtempSync(join(tmpdir(), 'shardlock-contended-'));
    try {
      expect(writeOutDir(report, dir)).toContain(join(dir, 'handoff-gap.svg'));
      const svg = readFileSync(join(dir, 'handoff-gap.svg'), 'utf8');
      expect(svg.match(/<polyline class="gap"/g)).toHaveLength(contenders.length);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseBenchArgs } from '../../packages/bench/src/args.js';
import { LocalCluster } from '../../packages/bench/src/local-cluster.js';
import { runBench } from '../../packages/bench/src/run.js';
import type { BenchReport } from '../../packages/bench/src/results.js';
import { freePort, startNodes, stopAllNodes, type RedisNode } from '../harness/index.js';

const CLI = fileURLToPath(new URL('../../packages/bench/dist/cli.js', import.meta.url));

interface Exit {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the built `shardlock` command; `onStderr` may act on what it logs. */
function runCli(args: string[], onStderr?: (text: string, pid: number) => void): Promise<Exit> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      onStderr?.(stderr, child.pid!);
    });
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
const pidsIn = (text: string): number[] =>
  [...text.matchAll(/\(pid (\d+)\)/g)].map((m) => Number(m[1]));

function checkSchema(report: BenchReport, contenders: string[]): void {
  expect(report.schema).toBe('shardlock-bench/1');
  expect(Number.isNaN(Date.parse(report.date))).toBe(false);
  expect(report.machine.cores).toBeGreaterThan(0);
  expect(report.machine.redis).toMatch(/^\d+\.\d+/);
  expect(report.results.map((r) => r.contender)).toEqual(contenders);
  for (const r of report.results) {
    expect(r.pairs).toBeGreaterThan(0);
    expect(r.errors).toBe(0);
    expect(r.pairsPerSecond).toBeGreaterThan(0);
    expect(r.acquireMicros.p50).toBeLessThanOrEqual(r.acquireMicros.p99);
    expect(r.acquireMicros.p99).toBeLessThanOrEqual(r.acquireMicros.p999);
    expect(r.acquireMicros.count).toBe(r.pairs);
    expect(r.cpuMicrosPerPair).toBeGreaterThan(0);
  }
  expect(report.results.find((r) => r.contender === 'raw')?.ratioToRaw).toBe(1);
}

describe('a tiny real run against the harness’s nodes', () => {
  let nodes: RedisNode[];
  beforeAll(async () => {
    nodes = await startNodes(3);
  });
  afterAll(async () => {
    await stopAllNodes();
  });

  it('measures every contender and reports a well-formed result', async () => {
    const contenders = ['shardlock', 'raw', 'hashring', 'redlock', 'redlock-3', 'semaphore'];
    const args = parseBenchArgs([
      '--nodes',
      nodes.map((n) => `127.0.0.1:${n.port}`).join(','),
      '--duration',
      '0.3',
      '--concurrency',
      '16',
      '--contenders',
      contenders.join(','),
    ]);
    const lines: string[] = [];
    const report = await runBench(
      args,
      { line: (text) => lines.push(text), progress: undefined },
      new AbortController().signal,
    );
    checkSchema(report, contenders);
    expect(report.cluster).toBe('external');
    expect(report.results.find((r) => r.contender === 'redlock-3')?.nodesUsed).toBe(3);
    expect(lines[0]).toContain(`127.0.0.1:${nodes[0]!.port}`);
  });

  it('runs hot keys with no wait, counting failures instead of errors', async () => {
    const args = parseBenchArgs([
      '--nodes',
      `127.0.0.1:${nodes[0]!.port}`,
      '--duration',
      '0.3',
      '--concurrency',
      '32',
      '--keys',
      '2',
      '--hold',
      '1',
      '--wait-timeout',
      '0',
      '--contenders',
      'shardlock,raw',
    ]);
    const report = await runBench(
      args,
      { line: () => undefined, progress: undefined },
      new AbortController().signal,
    );
    for (const r of report.results) {
      expect(r.failures).toBeGreaterThan(0);
      expect(r.errors).toBe(0);
    }
  });
});

describe('quorum modes against five real nodes', () => {
  let nodes: RedisNode[];
  beforeAll(async () => {
    nodes = await startNodes(5);
  });
  afterAll(async () => {
    await stopAllNodes();
  });

  it('--replicas 3,5 runs shardlock-q3 and shardlock-q5 with every pair completed', async () => {
    const args = parseBenchArgs([
      '--nodes',
      nodes.map((n) => `127.0.0.1:${n.port}`).join(','),
      '--duration',
      '0.3',
      '--concurrency',
      '16',
      '--contenders',
      'raw',
      '--replicas',
      '3,5',
    ]);
    const report = await runBench(
      args,
      { line: () => undefined, progress: undefined },
      new AbortController().signal,
    );
    checkSchema(report, ['shardlock-q3', 'shardlock-q5', 'raw']);
    for (const r of report.results) expect([r.failures, r.errors]).toEqual([0, 0]);
  });
});

describe('the embedded cluster', () => {
  it('starts redis-server processes and stops exactly them', async () => {
    const cluster = await LocalCluster.start(2);
    const pids = cluster.nodes.map((n) => n.pid);
    expect(pids.every(alive)).toBe(true);
    expect(new Set(cluster.nodes.map((n) => n.port)).size).toBe(2);
    await cluster.stop();
    expect(pids.some(alive)).toBe(false);
  });

  it('the command leaves no redis-server behind and writes JSON, chart and page', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'shardlock-out-'));
    try {
      const exit = await runCli([
        'bench',
        '--nodes-count',
        '1,3',
        '--duration',
        '0.2',
        '--concurrency',
        '4',
        '--contenders',
        'shardlock,raw,redlock-3',
        '--json',
        '-',
        '--out',
        dir,
      ]);
      expect(exit.stderr).not.toMatch(/^shardlock: /m);
      expect(exit.code).toBe(0);
      const pids = pidsIn(exit.stderr);
      expect(pids).toHaveLength(4);
      expect(pids.some(alive)).toBe(false);
      // A sweep runs redlock-3 at the size it fits and says it skipped the other.
      expect(exit.stderr).toContain('redlock-3: skipped, needs at least 3 nodes');
      const report = JSON.parse(exit.stdout) as BenchReport;
      checkSchema(report, ['shardlock', 'raw', 'shardlock', 'raw', 'redlock-3']);
      expect(report.results.map((r) => r.nodes)).toEqual([1, 1, 3, 3, 3]);
      expect(JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8'))).toEqual(report);
      expect(readFileSync(join(dir, 'throughput.svg'), 'utf8')).toMatch(/^<svg[^>]+viewBox/);
      expect(readFileSync(join(dir, 'report.html'), 'utf8')).toContain('<svg');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('Ctrl-C stops the run and every node it started', async () => {
    let sent = false;
    const exit = await runCli(
      ['--duration', '30', '--concurrency', '4', '--contenders', 'shardlock', '--json', '-'],
      (text, pid) => {
        if (!sent && text.includes('shardlock:')) {
          sent = true;
          process.kill(pid, 'SIGINT');
        }
      },
    );
    expect(exit.code).toBe(130);
    const pids = pidsIn(exit.stderr);
    expect(pids).toHaveLength(5);
    expect(pids.some(alive)).toBe(false);
  });
});

describe('the command refuses before starting anything', () => {
  it('prints usage and exits 2 on a bad flag', async () => {
    const exit = await runCli(['bench', '--concurrency', 'lots']);
    expect(exit.code).toBe(2);
    expect(exit.stderr).toContain('--concurrency takes a whole number');
    expect(exit.stderr).toContain('Usage: shardlock bench');
    expect(exit.stderr).not.toMatch(/cluster of \d+ node/);
  });

  it('names the address of a node it cannot reach, exit 1', async () => {
    const port = await freePort();
    const exit = await runCli(['--nodes', `127.0.0.1:${port}`, '--duration', '0.2']);
    expect(exit.code).toBe(1);
    expect(exit.stderr).toContain(`127.0.0.1:${port}`);
  });

  it('prints usage with --help', async () => {
    const exit = await runCli(['--help']);
    expect(exit.code).toBe(0);
    expect(exit.stdout).toContain('--nodes-count');
  });

  it('takes its options after the `--` that `pnpm start -- …` passes along', async () => {
    const exit = await runCli(['--', '--help']);
    expect(exit.code).toBe(0);
    expect(exit.stderr).toBe('');
    expect(exit.stdout).toContain('--nodes-count');
  });
});

// `pnpm pinned [--nodes 1,5,20,50] [--contenders shardlock,raw] [--duration 8]
// [--concurrency 256] [--perf | --syscalls]`: where the client's CPU goes, with the client
// and its nodes on different cores. Runs one `shardlock bench` per node count and contender
// with the embedded redis-servers on core 1 and the client process on core 0 (Linux
// `taskset`; needs 2 cores), samples the client's /proc counters over the middle half of
// the run, and prints one row each: pairs/s, the bench's CPU µs/pair, the client's share of
// its core, its user/system split, its context switches per 1,000 pairs, and the calls it
// sent per pair. With --perf, `perf record` samples the client over the same window and the
// row gets where its CPU went, by group; with --syscalls (not with --perf), `perf stat`
// counts its system calls over the window. Needs `pnpm build` first. Used for
// docs/performance.md.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, URL } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';

const args = process.argv.slice(2);
const { values } = parseArgs({
  args: args[0] === '--' ? args.slice(1) : args,
  options: {
    nodes: { type: 'string', default: '1,5,20,50' },
    contenders: { type: 'string', default: 'shardlock,raw' },
    duration: { type: 'string', default: '8' },
    concurrency: { type: 'string', default: '256' },
    perf: { type: 'boolean', default: false },
    syscalls: { type: 'boolean', default: false },
  },
});
const nodeCounts = values.nodes.split(',').map(Number);
const contenders = values.contenders.split(',');
const duration = Number(values.duration);
if (
  nodeCounts.some((n) => !Number.isInteger(n) || n < 1 || n > 100) ||
  !(duration >= 4 && duration <= 60)
) {
  console.error('usage: pnpm pinned [--nodes <1–100,…>] [--duration <4–60 s>] [--perf]');
  process.exit(2);
}

const dir = mkdtempSync(join(tmpdir(), 'shardlock-pinned-'));
const cli = fileURLToPath(new URL('../packages/bench/dist/cli.js', import.meta.url));
const TICK = 100; // USER_HZ: /proc/<pid>/stat counts CPU time in 1/100 s

function counters(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const ctx = (name) => Number(new RegExp(`${name}:\\s+(\\d+)`).exec(status)[1]);
  return {
    user: Number(fields[11]) / TICK,
    system: Number(fields[12]) / TICK,
    voluntary: ctx('voluntary_ctxt_switches'),
    involuntary: ctx('nonvoluntary_ctxt_switches'),
  };
}

// perf's symbols grouped by who pays for them.
const GROUPS = [
  ['kernel', (dso) => dso.includes('kernel') || dso === '[vdso]'],
  ['gc', (_, sym) => /Scaveng|MarkCompact|Heap::|Sweep|Evacuat|GC|MemoryChunk|Marking/.test(sym)],
  ['promises', (_, sym) => /Promise|Microtask|Generator|Async|Await/.test(sym)],
  ['ioredis', (_, sym) => sym.includes('/ioredis')],
  ['shardlock', (_, sym) => /packages\/(core|ring)\//.test(sym)],
  ['bench loop', (_, sym) => sym.includes('packages/bench/')],
  ['node streams', (_, sym) => /node:|Stream|WriteUtf8|WriteToFlat|Utf8Length|uv_|uv__/.test(sym)],
];

function perfGroups(file) {
  const report = execFileSync(
    'perf',
    ['report', '-i', file, '--no-children', '--sort', 'dso,sym', '-g', 'none', '--stdio'],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 64 << 20 },
  );
  const shares = new Map(GROUPS.map(([name]) => [name, 0]));
  shares.set('other', 0);
  for (const line of report.split('\n')) {
    const m = /^\s+([\d.]+)%\s+(.+?)\s+\[[.k]\]\s+(.*)$/.exec(line);
    if (!m) continue;
    const [, share, dso, sym] = m;
    const group = GROUPS.find(([, test]) => test(dso, sym))?.[0] ?? 'other';
    shares.set(group, shares.get(group) + Number(share));
  }
  return [...shares].map(([name, share]) => `${name} ${share.toFixed(0)}%`).join(', ');
}

async function run(nodes, contender) {
  const json = join(dir, `${nodes}-${contender}.json`);
  const child = spawn(
    'taskset',
    ['-c', '1', process.execPath, ...(values.perf ? ['--perf-basic-prof'] : [])].concat([
      cli,
      'bench',
      '--nodes-count',
      String(nodes),
      '--contenders',
      contender,
      '--duration',
      String(duration),
      '--rounds',
      '1',
      '--concurrency',
      values.concurrency,
      '--json',
      json,
    ]),
    // In the scratch directory: --perf-basic-prof leaves V8 logs in the working directory.
    { stdio: ['ignore', 'pipe', 'inherit'], cwd: dir },
  );
  const exited = new Promise((resolve) => child.on('exit', resolve));
  let out = '';
  await new Promise((resolve, reject) => {
    child.stdout.on('data', (chunk) => {
      out += chunk;
      if (out.includes('embedded cluster of')) resolve();
    });
    child.on('exit', () => reject(new Error(`bench exited early:\n${out}`)));
  });
  child.stdout.resume();
  // taskset exec()s node, so the child's pid is the client's; its servers are already up on
  // core 1, and only the client moves to core 0 (every thread: -a).
  execFileSync('taskset', ['-a', '-p', '-c', '0', String(child.pid)], { stdio: 'ignore' });
  await sleep((duration * 1000) / 4);
  const window = duration / 2;
  const before = counters(child.pid);
  const startedAt = performance.now();
  let syscalls = 0;
  const perfFile = join(dir, `${nodes}-${contender}.perf`);
  if (values.perf) {
    execFileSync(
      'perf',
      [
        'record',
        '-F',
        '999',
        '-p',
        String(child.pid),
        '-o',
        perfFile,
        '--',
        'sleep',
        String(window),
      ],
      {
        stdio: 'ignore',
      },
    );
  } else if (values.syscalls) {
    // Counting a tracepoint, not sampling: a small cost per system call.
    const stat = spawnSync(
      'perf',
      [
        'stat',
        '-x',
        ',',
        '-e',
        'raw_syscalls:sys_enter',
        '-p',
        String(child.pid),
        '--',
        'sleep',
        String(window),
      ],
      { encoding: 'utf8' },
    );
    syscalls = Number(/^(\d+),/m.exec(stat.stderr)?.[1] ?? Number.NaN);
  } else {
    await sleep(window * 1000);
  }
  const after = counters(child.pid);
  // The sleep may end late on a loaded machine: the window is what the clock says.
  const elapsed = (performance.now() - startedAt) / 1000;
  await exited;
  const result = JSON.parse(readFileSync(json, 'utf8')).results[0];
  const pairs = result.pairsPerSecond * elapsed;
  const cpu = after.user - before.user + (after.system - before.system);
  const perK = (n) => ((1000 * n) / pairs).toFixed(0);
  const row = [
    nodes,
    contender,
    result.pairsPerSecond.toLocaleString('en-US'),
    result.cpuMicrosPerPair,
    // perf's own sampling is charged to the client: its share of the core is left out then.
    values.perf ? '–' : `${Math.round((100 * cpu) / elapsed)} %`,
    `${Math.round((100 * (after.user - before.user)) / cpu)} / ${Math.round((100 * (after.system - before.system)) / cpu)}`,
    perK(after.voluntary - before.voluntary),
    perK(after.involuntary - before.involuntary),
    result.commandsPerGrant,
  ];
  if (values.syscalls) row.push(perK(syscalls));
  if (values.perf) row.push(perfGroups(perfFile));
  console.log(`| ${row.join(' | ')} |`);
}

console.log(
  '| nodes | contender | pairs/s | CPU µs/pair | client core used | user / system % | voluntary switches / 1k pairs | preempted / 1k pairs | calls / pair |' +
    (values.syscalls ? ' syscalls / 1k pairs |' : '') +
    (values.perf ? ' where it went |' : ''),
);
console.log(
  '|---:|:--|--:|--:|--:|--:|--:|--:|--:|' +
    (values.syscalls ? '--:|' : '') +
    (values.perf ? ':--|' : ''),
);
try {
  for (const nodes of nodeCounts) for (const contender of contenders) await run(nodes, contender);
} finally {
  rmSync(dir, { recursive: true, force: true });
}

// `pnpm bench`: what the ring promises (issue "ring must show"), measured on this machine.
// Every figure printed comes from this run; the only constants are sizes, seeds and targets.
// The sections live in ring-bench/, one file each.
// Usage: node dist/ring.bench.js [--json]
import { HashRing } from '@shardlock/ring';
import { formatTable } from './report.js';
import { balanceSection } from './ring-bench/balance.js';
import { buildSection } from './ring-bench/build.js';
import { nodeIds } from './ring-bench/inputs.js';
import { describeMachine, machineLine } from './ring-bench/machine.js';
import { movementSection } from './ring-bench/movement.js';
import { BenchResults } from './ring-bench/results.js';
import { speedSection } from './ring-bench/speed.js';

const started = performance.now();
const machine = describeMachine();
const results = new BenchResults();
const ring10 = new HashRing(nodeIds(10));
const ring100 = new HashRing(nodeIds(100));
balanceSection(results, [ring10, ring100]);
movementSection(results, ring10);
await speedSection(results, ring10);
buildSection(results, [ring10, ring100]);
results.checkSink();
const seconds = (performance.now() - started) / 1000;
const { sections, targets } = results;

if (process.argv.includes('--json')) {
  console.log(JSON.stringify({ machine, seconds, sections, targets }, null, 2));
} else {
  const out = [
    '# @shardlock/ring bench',
    '',
    machineLine(machine),
    `Command: ${machine.command}`,
    '',
  ];
  for (const { title, rows, notes } of sections) {
    out.push(`## ${title}`, '', formatTable(rows), '');
    if (notes.length > 0) out.push(...notes.map((note) => `- ${note}`), '');
  }
  out.push('## Targets', '', formatTable(targets), '', `Run time: ${seconds.toFixed(1)} s`);
  // Exits 0 when a target is missed: timings vary by machine, and the tables say it plainly.
  console.log(out.join('\n'));
}

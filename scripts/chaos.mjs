// `pnpm chaos [--duration <seconds>] [--seed <integer>] [--replicas 1|3] [--partitions]`: the
// chaos checker's long soak.
// Builds the packages, then runs test/chaos/soak.chaos.ts under vitest with the harness's
// real redis-server processes; prints one line of figures and exits non-zero on a violation.
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';

const usage =
  'usage: pnpm chaos [--duration <seconds, 1–86400; default 600>] [--seed <integer; default: random>] [--replicas <1 or 3; default 1>] [--partitions] [--nodes <3–9; default 4>]';
let values;
try {
  // `pnpm chaos -- --duration 60` passes the `--` along: accept both forms.
  const args = process.argv.slice(2);
  ({ values } = parseArgs({
    args: args[0] === '--' ? args.slice(1) : args,
    options: {
      duration: { type: 'string', default: '600' },
      seed: { type: 'string' },
      replicas: { type: 'string', default: '1' },
      partitions: { type: 'boolean', default: false },
      nodes: { type: 'string', default: '4' },
      help: { type: 'boolean' },
    },
  }));
} catch (error) {
  console.error(`${error.message}\n${usage}`);
  process.exit(2);
}
if (values.help) {
  console.log(usage);
  process.exit(0);
}
const duration = Number(values.duration);
const seed = values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(values.seed);
if (!Number.isInteger(duration) || duration < 1 || duration > 86_400) {
  console.error(
    `--duration must be a whole number of seconds from 1 to 86400, received ${values.duration}\n${usage}`,
  );
  process.exit(2);
}
if (!Number.isSafeInteger(seed) || seed < 0) {
  console.error(`--seed must be a non-negative integer, received ${values.seed}\n${usage}`);
  process.exit(2);
}

if (values.replicas !== '1' && values.replicas !== '3') {
  console.error(`--replicas must be 1 or 3, received ${values.replicas}\n${usage}`);
  process.exit(2);
}

const nodes = Number(values.nodes);
if (!Number.isInteger(nodes) || nodes < 3 || nodes > 9) {
  console.error(`--nodes must be a whole number from 3 to 9, received ${values.nodes}\n${usage}`);
  process.exit(2);
}

const run = (command, args, env = {}) =>
  spawnSync(command, args, { stdio: 'inherit', env: { ...process.env, ...env } }).status ?? 1;

console.log(
  `chaos soak: ${duration} s, seed ${seed}, ${nodes} nodes, ${values.replicas} replica(s) per key${values.partitions ? ', with partitions' : ''}`,
);
if (run('pnpm', ['exec', 'tsc', '--build']) !== 0) process.exit(1);
process.exit(
  run('pnpm', ['exec', 'vitest', 'run', '--project', 'chaos-soak'], {
    SHARDLOCK_CHAOS_SOAK: '1',
    SHARDLOCK_CHAOS_DURATION_MS: String(duration * 1000),
    SHARDLOCK_CHAOS_SEED: String(seed),
    SHARDLOCK_CHAOS_REPLICAS: values.replicas,
    SHARDLOCK_CHAOS_PARTITIONS: values.partitions ? '1' : '0',
    SHARDLOCK_CHAOS_NODES: String(nodes),
  }),
);

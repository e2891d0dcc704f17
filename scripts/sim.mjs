// `pnpm sim [--schedules <n>] [--seed <integer>] [--path <fast-check path>] [--replicas 3]
// [--focus <name>]`: the deterministic simulator over many schedules (test/sim), or over one
// focused shape of them (test/sim/focus.ts). Prints schedules per second; on a failure, the
// schedule and the seed and path that replay it exactly.
// `pnpm sim --trace '<schedule JSON>' [--grep <regexp>]`: one schedule, event by event.
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';

const usage =
  'usage: pnpm sim [--schedules <1–10000000; default 20000>] [--seed <integer; default: random>] [--path <replay path>] [--replicas <1 or 3; default 1>] [--focus <name from test/sim/focus.ts>]\n       pnpm sim --trace <schedule JSON> [--grep <regexp>]';
let values;
try {
  // `pnpm sim -- --schedules 100` passes the `--` along: accept both forms.
  const args = process.argv.slice(2);
  ({ values } = parseArgs({
    args: args[0] === '--' ? args.slice(1) : args,
    options: {
      schedules: { type: 'string', default: '20000' },
      seed: { type: 'string' },
      path: { type: 'string' },
      trace: { type: 'string' },
      grep: { type: 'string' },
      replicas: { type: 'string', default: '1' },
      focus: { type: 'string' },
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
const schedules = Number(values.schedules);
const seed = values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(values.seed);
if (!Number.isInteger(schedules) || schedules < 1 || schedules > 10_000_000) {
  console.error(
    `--schedules must be a whole number from 1 to 10000000, received ${values.schedules}\n${usage}`,
  );
  process.exit(2);
}
if (!Number.isSafeInteger(seed)) {
  console.error(`--seed must be an integer, received ${values.seed}\n${usage}`);
  process.exit(2);
}

if (values.replicas !== '1' && values.replicas !== '3') {
  console.error(`--replicas must be 1 or 3, received ${values.replicas}\n${usage}`);
  process.exit(2);
}

if (values.trace === undefined) {
  const shape =
    values.focus === undefined ? `${values.replicas} replica(s) per key` : `focus ${values.focus}`;
  console.log(`sim: ${schedules} schedules, seed ${seed}, ${shape}`);
}
const result = spawnSync('pnpm', ['exec', 'vitest', 'run', '--project', 'sim-long'], {
  stdio: 'inherit',
  env: {
    ...process.env,
    SHARDLOCK_SIM_LONG: '1',
    SHARDLOCK_SIM_RUNS: String(schedules),
    SHARDLOCK_SIM_SEED: String(seed),
    SHARDLOCK_SIM_MODE: values.replicas === '3' ? 'quorum' : 'one-owner',
    ...(values.path === undefined ? {} : { SHARDLOCK_SIM_PATH: values.path }),
    ...(values.focus === undefined ? {} : { SHARDLOCK_SIM_FOCUS: values.focus }),
    ...(values.trace === undefined ? {} : { SHARDLOCK_SIM_TRACE: values.trace }),
    ...(values.grep === undefined ? {} : { SHARDLOCK_SIM_GREP: values.grep }),
  },
});
process.exit(result.status ?? 1);

#!/usr/bin/env node
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseBenchArgs, UsageError, USAGE } from './args.js';
import { OVERVIEW, runSubcommand, SUBCOMMANDS, type CommandIo } from './commands/index.js';
import type { LoadProgress } from './load.js';
import { writeJson, writeOutDir } from './output-files.js';
import { runBench, type BenchOutput } from './run.js';
import { reportHeader, resultsTable } from './summary.js';

/**
 * `shardlock <command> [options]`: `bench` (the default), or an operator subcommand
 * (`locks`, `inspect`, `unlock`, `nodes`, `ring`; `commands/`). Returns the exit code: 0 done,
 * 1 failed (a node could not be reached, redis-server could not start), 2 bad usage, 3
 * `unlock` deleted nothing, 4 `nodes` flagged a problem, 130 interrupted.
 * @param io - streams and environment of the operator subcommands (a test passes its own)
 */
export async function main(input: readonly string[], io?: CommandIo): Promise<number> {
  // `pnpm start -- --nodes-count 3` hands the `--` along: it separates nothing here.
  const argv = input[0] === '--' ? input.slice(1) : input;
  const subcommand = argv[0] === undefined ? undefined : SUBCOMMANDS.get(argv[0]);
  if (subcommand !== undefined) return runOperator(argv[0]!, argv.slice(1), io);
  if (argv[0] === 'help' || (argv.length === 1 && (argv[0] === '--help' || argv[0] === '-h'))) {
    process.stdout.write(`${OVERVIEW}\n${USAGE}`);
    return 0;
  }
  const words = argv[0] === 'bench' ? argv.slice(1) : argv;
  if (argv[0] !== undefined && argv[0] !== 'bench' && !argv[0].startsWith('-')) {
    process.stderr.write(`shardlock: unknown command ${JSON.stringify(argv[0])}\n\n${OVERVIEW}`);
    return 2;
  }
  let args;
  try {
    args = parseBenchArgs(words, process.env);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`shardlock: ${error.message}\n\n${USAGE}`);
    return 2;
  }
  if (args.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const controller = new AbortController();
  const interrupt = (): void => {
    if (controller.signal.aborted) process.exit(130);
    process.stderr.write('\nshardlock: stopping (Ctrl-C again to quit at once)…\n');
    controller.abort();
  };
  process.on('SIGINT', interrupt);
  process.on('SIGTERM', interrupt);
  // JSON on stdout must stay clean: the log goes to stderr then.
  const log = args.json === '-' ? process.stderr : process.stdout;
  const output: BenchOutput = {
    line: (text) => log.write(`${text}\n`),
    progress: process.stderr.isTTY
      ? (name, p) => process.stderr.write(`\r${progressLine(name, p)}\x1b[K`)
      : undefined,
  };
  try {
    const report = await runBench(args, output, controller.signal);
    if (process.stderr.isTTY) process.stderr.write('\r\x1b[K');
    log.write(`\n${reportHeader(report)}\n\n${resultsTable(report)}\n`);
    if (args.json !== undefined) writeJson(report, args.json);
    if (args.out !== undefined) log.write(`\nwrote ${writeOutDir(report, args.out).join(', ')}\n`);
    return controller.signal.aborted ? 130 : 0;
  } catch (error) {
    process.stderr.write(`shardlock: ${(error as Error).message}\n`);
    return 1;
  } finally {
    process.off('SIGINT', interrupt);
    process.off('SIGTERM', interrupt);
  }
}

async function runOperator(
  name: string,
  argv: readonly string[],
  given: CommandIo | undefined,
): Promise<number> {
  if (given !== undefined) return runSubcommand(SUBCOMMANDS.get(name)!, argv, given);
  const controller = new AbortController();
  const interrupt = (): void => {
    if (controller.signal.aborted) process.exit(130);
    controller.abort(new Error('interrupted'));
  };
  process.on('SIGINT', interrupt);
  process.on('SIGTERM', interrupt);
  try {
    const io: CommandIo = {
      stdout: process.stdout,
      stderr: process.stderr,
      stdin: process.stdin,
      env: process.env,
      signal: controller.signal,
    };
    return await runSubcommand(SUBCOMMANDS.get(name)!, argv, io);
  } finally {
    process.off('SIGINT', interrupt);
    process.off('SIGTERM', interrupt);
  }
}

function progressLine(name: string, p: LoadProgress): string {
  const seconds = (p.elapsedMs / 1000).toFixed(1);
  return `  ${name}: ${seconds} s, ${Math.round(p.pairsPerSecond).toLocaleString('en-US')} pairs/s, p99 ${p.p99Micros} µs, ${p.failures} failures, ${p.errors} errors`;
}

/** Whether this module is the program being run (also through a bin symlink), not an import. */
function isEntryPoint(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return realpathSync(script) === fileURLToPath(import.meta.url);
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`shardlock: ${(error as Error).stack ?? String(error)}\n`);
      process.exit(1);
    },
  );
}

import { appendFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { DATA_DIR_PREFIX, HARNESS_TMP_DIR, PID_LEDGER_FILE } from './paths.js';

/**
 * One line of the pid ledger: `pid start run dir`. `start` is the kernel start time of the
 * process (/proc/PID/stat field 22), so a pid the kernel has since reused is never mistaken
 * for ours; `run` names the vitest run that spawned it.
 */
export interface LedgerEntry {
  /** The redis-server pid. */
  readonly pid: number;
  /** Its start time in clock ticks since boot, or `?` where /proc is not available. */
  readonly start: string;
  /** The run that spawned it, as `pid@start` of the run's main process. */
  readonly run: string;
  /** The server's temp data folder. */
  readonly dir: string;
}

// The global setup runs in vitest's main process and its workers inherit its environment.
const RUN_ENV = 'SHARDLOCK_HARNESS_RUN';

/** The start time of `pid` from /proc/PID/stat, `undefined` if there is no such process. */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${String(pid)}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may hold spaces: count from its end.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

function identity(pid: number): string {
  return `${String(pid)}@${processStartTime(pid) ?? '?'}`;
}

function isRunAlive(run: string): boolean {
  const [pid = '', start] = run.split('@');
  return start === '?' || processStartTime(Number(pid)) === start;
}

/**
 * Marks the calling process (vitest's main process) as the owner of a run: every server the
 * workers spawn from now on is recorded under it.
 * @returns the run's name
 */
export function beginRun(): string {
  const run = identity(process.pid);
  process.env[RUN_ENV] = run;
  return run;
}

/** The current run: the one begun by the global setup, else this process on its own. */
export function currentRun(): string {
  return process.env[RUN_ENV] ?? identity(process.pid);
}

/** Appends a freshly spawned server to the ledger. Synchronous, so a crash right after it still leaves the line. */
export function recordSpawn(pid: number, dir: string): void {
  mkdirSync(HARNESS_TMP_DIR, { recursive: true });
  const start = processStartTime(pid) ?? '?';
  appendFileSync(PID_LEDGER_FILE, `${String(pid)} ${start} ${currentRun()} ${dir}\n`);
}

/** Reads the ledger; a missing file is an empty ledger and malformed lines are skipped. */
export function readLedger(): LedgerEntry[] {
  let text: string;
  try {
    text = readFileSync(PID_LEDGER_FILE, 'utf8');
  } catch {
    return [];
  }
  const entries: LedgerEntry[] = [];
  for (const line of text.split('\n')) {
    const [pid, start, run, ...dir] = line.split(' ');
    if (pid === undefined || start === undefined || run === undefined || dir.length === 0) continue;
    if (!/^\d+$/.test(pid)) continue;
    entries.push({ pid: Number(pid), start, run, dir: dir.join(' ') });
  }
  return entries;
}

/** True when the entry's process still runs, is the same process (start time) and is a redis-server. */
export function isEntryAlive(entry: LedgerEntry): boolean {
  const start = processStartTime(entry.pid);
  if (start === undefined || (entry.start !== '?' && start !== entry.start)) return false;
  try {
    return readFileSync(`/proc/${String(entry.pid)}/cmdline`, 'utf8').includes('redis-server');
  } catch {
    return false;
  }
}

/**
 * SIGKILLs every ledger entry selected by `select` that is still alive, removes its data
 * folder, and rewrites the ledger without the selected entries.
 * @returns the pids that were killed
 */
export function reapLedger(select: (entry: LedgerEntry) => boolean): number[] {
  const entries = readLedger();
  const killed: number[] = [];
  for (const entry of entries.filter(select)) {
    if (isEntryAlive(entry)) {
      try {
        process.kill(entry.pid, 'SIGKILL');
        killed.push(entry.pid);
      } catch {
        // Exited between the check and the signal: nothing left to do.
      }
    }
    if (entry.dir.startsWith(DATA_DIR_PREFIX)) rmSync(entry.dir, { recursive: true, force: true });
  }
  const kept = entries.filter((entry) => !select(entry));
  mkdirSync(HARNESS_TMP_DIR, { recursive: true });
  writeFileSync(
    PID_LEDGER_FILE,
    kept.map((e) => `${String(e.pid)} ${e.start} ${e.run} ${e.dir}\n`).join(''),
  );
  return killed;
}

/** Reaps the servers of `run` (the global teardown's job). */
export function reapRun(run: string): number[] {
  return reapLedger((entry) => entry.run === run);
}

/**
 * Reaps servers left by runs whose main process is gone (a crashed or killed run) and keeps
 * the entries of runs still going: another engineer's concurrent run in the same checkout
 * must not lose its servers.
 */
export function reapOrphans(): number[] {
  return reapLedger((entry) => !isRunAlive(entry.run));
}

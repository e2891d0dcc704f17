import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { RedisServerError } from './errors.js';
import { OutputTail } from './output-tail.js';
import { pingOnce } from './probe.js';

/** How a redis-server process ended. */
export interface ExitStatus {
  /** Exit code, `null` when it was ended by a signal. */
  readonly code: number | null;
  /** The signal that ended it, `null` when it exited by itself. */
  readonly signal: NodeJS.Signals | null;
}

/** What {@link launch} needs to start one redis-server. */
export interface LaunchOptions {
  /** The redis-server executable. */
  readonly binary: string;
  /** The port it serves on; only used for probing and messages (the port is in `args`). */
  readonly port: number;
  /** Its data folder, recorded in the pid ledger and removed by the exit hook. */
  readonly dir: string;
  /** Probe over TLS. */
  readonly tls: boolean;
  /** The redis-server arguments, see `serverArgs`. */
  readonly args: readonly string[];
  /** How long to wait for it to be ready, in milliseconds. */
  readonly timeoutMs: number;
  /**
   * Told the pid and folder as soon as the process exists, before it is ready: the test
   * harness writes them to its pid ledger there, so a crash right after still leaves a trace.
   */
  readonly onSpawn?: (pid: number, dir: string) => void;
}

/** A started, ready redis-server child process. */
export interface LaunchedProcess {
  /** The child process handle. */
  readonly child: ChildProcess;
  /** Its pid. */
  readonly pid: number;
  /** Settles when it has exited. */
  readonly exited: Promise<ExitStatus>;
  /** Its last lines of output. */
  readonly output: OutputTail;
  /** How it ended, `undefined` while it runs. */
  status(): ExitStatus | undefined;
}

// Shared through globalThis so that module copies (vitest re-evaluates modules per test file;
// the bench and the tests may load this file twice) share one set and one exit hook.
const LIVE_KEY: unique symbol = Symbol.for('shardlock.harness.liveChildren');
const live = sharedLiveChildren();

function sharedLiveChildren(): Map<ChildProcess, string> {
  const store = globalThis as { [LIVE_KEY]?: Map<ChildProcess, string> };
  const existing = store[LIVE_KEY];
  if (existing !== undefined) return existing;
  const children = installExitHook(new Map<ChildProcess, string>());
  store[LIVE_KEY] = children;
  return children;
}

function installExitHook(children: Map<ChildProcess, string>): Map<ChildProcess, string> {
  // 'exit' handlers must be synchronous: SIGKILL whatever is left so no redis-server outlives
  // a test worker that ends with servers still running (a failed afterAll, process.exit()).
  process.on('exit', () => {
    for (const child of children.keys()) child.kill('SIGKILL');
    for (const dir of children.values()) {
      try {
        rmSync(dir, { recursive: true, force: true });
      } catch {
        // Best effort: a leftover temp folder must not stop the other cleanups.
      }
    }
  });
  return children;
}

const READY_LINE = 'Ready to accept connections';

/**
 * Spawns redis-server and waits until it is ready: its own log says "Ready to accept
 * connections" (proof that this process holds the port; a PING alone could be answered by
 * another process that took the port first) and a raw PING on the port is answered.
 * @throws {RedisServerError} `ERR_REDIS_SPAWN` when the executable cannot be started,
 * `ERR_REDIS_EXITED` when it exits first (see {@link isPortInUse}), `ERR_REDIS_NOT_READY`
 * after `timeoutMs` (the process is killed first)
 */
export async function launch(options: LaunchOptions): Promise<LaunchedProcess> {
  const { port } = options;
  const output = new OutputTail();
  const child = spawn(options.binary, options.args, { stdio: ['ignore', 'pipe', 'pipe'] });
  // An object, not `let`s: control-flow analysis cannot see the callbacks assign them.
  const state: { status?: ExitStatus; sawReadyLine?: true } = {};
  // 'close', not 'exit': it comes after stdout and stderr are drained, so an error raised on
  // it carries the server's last words (a bad directive, a taken port).
  const exited = new Promise<ExitStatus>((resolve) => {
    child.once('close', (code, signal) => {
      live.delete(child);
      state.status = { code, signal };
      resolve(state.status);
    });
  });
  // `on`, not `once`: a later 'error' (a failed kill) without a listener would crash the worker.
  const spawnError = new Promise<Error>((resolve) => child.on('error', resolve));
  const { pid } = child;
  if (pid === undefined) {
    const cause = await spawnError;
    const message = `cannot run ${options.binary}: ${cause.message} (run scripts/setup.sh to install redis-server)`;
    throw new RedisServerError('ERR_REDIS_SPAWN', message, { port, cause });
  }
  live.set(child, options.dir);
  options.onSpawn?.(pid, options.dir);
  child.stdout.on('data', (chunk: Buffer) => {
    if (output.push(chunk).some((line) => line.includes(READY_LINE))) state.sawReadyLine = true;
  });
  child.stderr.on('data', (chunk: Buffer) => output.push(chunk));

  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    const { status } = state;
    if (status !== undefined) {
      const how = status.signal ?? `code ${String(status.code)}`;
      const message = `redis-server for port ${String(port)} exited (${how}) before it was ready`;
      throw new RedisServerError('ERR_REDIS_EXITED', message, {
        port,
        pid,
        output: output.lines(),
      });
    }
    const target = { host: '127.0.0.1', port, tls: options.tls };
    if (state.sawReadyLine === true && (await pingOnce(target, 1_000))) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      await exited;
      const message = `redis-server on port ${String(port)} not ready within ${String(options.timeoutMs)} ms`;
      throw new RedisServerError('ERR_REDIS_NOT_READY', message, {
        port,
        pid,
        output: output.lines(),
      });
    }
    await Promise.race([sleep(20), exited]);
  }
  return { child, pid, exited, output, status: () => state.status };
}

/** True when `error` says redis-server could not bind its port because it was taken. */
export function isPortInUse(error: unknown): boolean {
  return (
    error instanceof RedisServerError &&
    error.code === 'ERR_REDIS_EXITED' &&
    error.output.some((line) => line.includes('Address already in use'))
  );
}

/**
 * Ends a launched process: SIGCONT first when it may be paused (a stopped process does not
 * act on SIGTERM), SIGTERM, then SIGKILL if it is still running after `graceMs`; resolves once
 * it has exited. Does nothing when it has exited already.
 */
export async function stopProcess(
  launched: LaunchedProcess,
  graceMs: number,
  paused = false,
): Promise<void> {
  if (launched.status() !== undefined) return;
  const { child, exited } = launched;
  if (paused) child.kill('SIGCONT');
  child.kill('SIGTERM');
  const grace = sleep(graceMs, undefined, { ref: false });
  if ((await Promise.race([exited, grace])) === undefined) child.kill('SIGKILL');
  await exited;
}

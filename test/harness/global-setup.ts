import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { TestProject } from 'vitest/node';
import { HarnessError } from './errors.js';
import { REDIS_SERVER_BIN } from './paths.js';
import { beginRun, reapOrphans, reapRun } from './pid-ledger.js';

declare module 'vitest' {
  interface ProvidedContext {
    /** The redis-server version the integration tests run against, e.g. `7.0.15`. */
    redisServerVersion: string;
  }
}

const run = promisify(execFile);
let currentRun: string | undefined;

async function redisServerVersion(): Promise<string> {
  try {
    const { stdout } = await run(REDIS_SERVER_BIN, ['--version']);
    // "Redis server v=7.0.15 sha=00000000:0 malloc=jemalloc-5.3.0 bits=64 build=…"
    const version = /\bv=(\S+)/.exec(stdout)?.[1];
    if (version !== undefined) return version;
    throw new Error(`unexpected output: ${stdout.trim()}`);
  } catch (cause) {
    const message =
      `cannot run \`${REDIS_SERVER_BIN} --version\`; the integration tests start real ` +
      'redis-server processes: run `bash scripts/setup.sh` (or set $REDIS_SERVER)';
    throw new HarnessError('ERR_REDIS_MISSING', message, { cause });
  }
}

/**
 * Vitest global setup of the integration project: checks that redis-server runs, provides its
 * version as `redisServerVersion`, and starts a fresh pid ledger run after reaping servers
 * left by runs that crashed.
 * @throws {HarnessError} `ERR_REDIS_MISSING` when redis-server cannot be run
 */
export async function setup(project: TestProject): Promise<void> {
  project.provide('redisServerVersion', await redisServerVersion());
  reapOrphans();
  currentRun = beginRun();
}

/**
 * Vitest global teardown: SIGKILLs any redis-server of this run that is still alive (a worker
 * that crashed before its own cleanup), checking /proc so a reused pid is never signalled.
 */
export function teardown(): void {
  if (currentRun === undefined) return;
  const killed = reapRun(currentRun);
  if (killed.length > 0) {
    console.warn(`harness teardown: killed leftover redis-server pids ${killed.join(', ')}`);
  }
}

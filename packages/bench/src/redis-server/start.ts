import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from './free-port.js';
import { isPortInUse, launch, type LaunchedProcess } from './process.js';
import { serverArgs, type ServerConfig } from './server-args.js';

/** What {@link startServer} needs. */
export interface StartOptions {
  /**
   * The port to serve on (the TLS port with `config.tls`).
   * @default a free port from {@link freePort}, picked again if another process takes it first
   */
  readonly port?: number | undefined;
  /** Password, ACL users, TLS files and extra arguments. @default {} */
  readonly config?: ServerConfig;
  /**
   * The redis-server executable.
   * @default `$REDIS_SERVER`, else `redis-server` from `PATH`
   */
  readonly binary?: string;
  /**
   * Prefix of the data folder's path, passed to `mkdtemp`.
   * @default `${tmpdir()}/shardlock-redis-`
   */
  readonly dirPrefix?: string;
  /** How long the server may take to be ready, in ms. @default 10000 */
  readonly timeoutMs?: number;
  /** Told the pid and data folder as soon as the process exists (see `launch`). */
  readonly onSpawn?: (pid: number, dir: string) => void;
}

/** A started, ready redis-server, its port and its data folder (remove it after the stop). */
export interface StartedServer {
  readonly port: number;
  readonly dir: string;
  readonly server: LaunchedProcess;
}

/** The redis-server executable: `$REDIS_SERVER` when set, else `redis-server` from `PATH`. */
export const REDIS_SERVER_BIN: string = process.env.REDIS_SERVER ?? 'redis-server';

/** Prefix of the data folders {@link startServer} makes by default. */
export const DEFAULT_DIR_PREFIX: string = join(tmpdir(), 'shardlock-redis-');

const BIND_ATTEMPTS = 5;

/**
 * Starts one redis-server on 127.0.0.1, in a fresh data folder, with no persistence, and
 * resolves once it is ready. A picked port that another process takes first is replaced by
 * a new free one; a fixed port is tried again after a pause (a just-killed server's port can
 * be briefly busy), up to 5 attempts in all.
 * @throws {@link RedisServerError} when it cannot start, exits early, or is not ready in time;
 *   the message ends with its last output
 */
export async function startServer(options: StartOptions = {}): Promise<StartedServer> {
  const config = options.config ?? {};
  const tls = config.tls !== undefined;
  for (let attempt = 1; ; attempt += 1) {
    const port = options.port ?? (await freePort());
    const dir = await mkdtemp(options.dirPrefix ?? DEFAULT_DIR_PREFIX);
    const args = serverArgs(port, dir, config);
    try {
      const server = await launch({
        binary: options.binary ?? REDIS_SERVER_BIN,
        port,
        dir,
        tls,
        args,
        timeoutMs: options.timeoutMs ?? 10_000,
        ...(options.onSpawn === undefined ? {} : { onSpawn: options.onSpawn }),
      });
      return { port, dir, server };
    } catch (error) {
      await rm(dir, { recursive: true, force: true });
      if (!isPortInUse(error) || attempt >= BIND_ATTEMPTS) throw error;
      if (options.port !== undefined) await sleep(100 * attempt);
    }
  }
}

import { rm } from 'node:fs/promises';
import {
  startServer,
  stopProcess,
  type LaunchedProcess,
  type ServerConfig,
  type StartedServer,
} from '@shardlock/bench/redis-server';
import { HarnessError } from './errors.js';
import { DATA_DIR_PREFIX, REDIS_SERVER_BIN } from './paths.js';
import { recordSpawn } from './pid-ledger.js';

/** Options of {@link RedisNode.start}; see `ServerConfig` for `password`, `users`, `tls`, `args`. */
export interface RedisNodeOptions extends ServerConfig {
  /**
   * The port to serve on (the TLS port with `tls`).
   * @default a free port from `freePort()`, picked again if another process takes it first
   */
  readonly port?: number;
}

/** How long `stop()` waits after SIGTERM before SIGKILL, in milliseconds. */
const STOP_GRACE_MS = 3_000;

const registry = new Set<RedisNode>();

// The start itself (free port, spawn, readiness, a busy port tried again) is shared with the
// bench's embedded cluster; the harness adds its pid ledger, so a crashed run is reaped.
function startOne(port: number | undefined, config: ServerConfig): Promise<StartedServer> {
  return startServer({
    port,
    config,
    binary: REDIS_SERVER_BIN,
    dirPrefix: DATA_DIR_PREFIX,
    onSpawn: recordSpawn,
  });
}

/**
 * One redis-server child process on 127.0.0.1 and what the tests do to it: kill, pause,
 * resume, restart empty, stop. It only ever signals the pid it spawned.
 *
 * @example
 * const node = await RedisNode.start({ password: 'secret' });
 * try {
 *   // … new Redis({ port: node.port, password: 'secret' }) …
 * } finally {
 *   await node.stop();
 * }
 */
export class RedisNode {
  /** The address it listens on. */
  readonly host = '127.0.0.1';
  /** The port it listens on; it keeps it across `restartEmpty()`. */
  readonly port: number;
  /** `redis://127.0.0.1:PORT`, or `rediss://…` when serving TLS. */
  readonly url: string;
  readonly #config: ServerConfig;
  #dir: string;
  #process: LaunchedProcess;
  #paused = false;

  private constructor(config: ServerConfig, started: StartedServer) {
    this.port = started.port;
    this.url = `${config.tls === undefined ? 'redis' : 'rediss'}://${this.host}:${String(this.port)}`;
    this.#config = config;
    this.#dir = started.dir;
    this.#process = started.server;
  }

  /**
   * Starts a redis-server and resolves once it answers.
   * @param options - port, password, ACL users, TLS files, extra arguments
   * @throws {HarnessError} when it cannot start, exits early, or is not ready within 10 s;
   * the message ends with its last output
   */
  static async start(options: RedisNodeOptions = {}): Promise<RedisNode> {
    const { port, ...config } = options;
    const node = new RedisNode(config, await startOne(port, config));
    registry.add(node);
    return node;
  }

  /** The pid of the current redis-server process (a new one after `restartEmpty()`). */
  get pid(): number {
    return this.#process.pid;
  }

  /** True until the current process has exited (a paused process is alive). */
  isAlive(): boolean {
    return this.#process.status() === undefined;
  }

  /** SIGKILLs the process, if alive, and resolves once it has exited. */
  async kill(): Promise<void> {
    if (this.isAlive()) this.#process.child.kill('SIGKILL');
    await this.#process.exited;
    this.#paused = false;
  }

  /**
   * Freezes the process with SIGSTOP: connections stay open, nothing is answered.
   * @throws {HarnessError} `ERR_REDIS_NOT_RUNNING` when the process has exited
   */
  pause(): void {
    this.#signal('SIGSTOP');
    this.#paused = true;
  }

  /**
   * Thaws a paused process with SIGCONT.
   * @throws {HarnessError} `ERR_REDIS_NOT_RUNNING` when the process has exited
   */
  resume(): void {
    this.#signal('SIGCONT');
    this.#paused = false;
  }

  /**
   * SIGKILLs the process (if alive) and starts a new one on the same port with the same
   * options, a fresh data folder and so an empty dataset; resolves once it answers.
   * @throws {HarnessError} when the new process cannot start (after retrying a busy port)
   */
  async restartEmpty(): Promise<void> {
    await this.kill();
    await rm(this.#dir, { recursive: true, force: true });
    const started = await startOne(this.port, this.#config);
    this.#dir = started.dir;
    this.#process = started.server;
    registry.add(this);
  }

  /**
   * Stops the server: SIGCONT if paused, SIGTERM, SIGKILL if still running after 3 s; then
   * removes its data folder. Safe to call more than once.
   */
  async stop(): Promise<void> {
    await stopProcess(this.#process, STOP_GRACE_MS, this.#paused);
    this.#paused = false;
    await rm(this.#dir, { recursive: true, force: true });
    registry.delete(this);
  }

  #signal(signal: NodeJS.Signals): void {
    if (!this.isAlive()) {
      const message = `cannot send ${signal}: redis-server ${String(this.pid)} on port ${String(this.port)} has exited`;
      throw new HarnessError('ERR_REDIS_NOT_RUNNING', message, { port: this.port, pid: this.pid });
    }
    this.#process.child.kill(signal);
  }
}

/** Stops every node started in this worker and not yet stopped. */
export async function stopAllNodes(): Promise<void> {
  await Promise.all([...registry].map((node) => node.stop()));
}

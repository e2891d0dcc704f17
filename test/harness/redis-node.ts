import { mkdtemp, rm } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { HarnessError } from './errors.js';
import { freePort } from './free-port.js';
import { DATA_DIR_PREFIX } from './paths.js';
import { isPortInUse, launch } from './redis-process.js';
import type { LaunchedProcess } from './redis-process.js';
import { serverArgs } from './server-args.js';
import type { ServerConfig } from './server-args.js';

/** Options of {@link RedisNode.start}; see `ServerConfig` for `password`, `users`, `tls`, `args`. */
export interface RedisNodeOptions extends ServerConfig {
  /**
   * The port to serve on (the TLS port with `tls`).
   * @default a free port from `freePort()`, picked again if another process takes it first
   */
  readonly port?: number;
}

/** How long a server may take to be ready, in milliseconds. */
const START_TIMEOUT_MS = 10_000;
/** How long `stop()` waits after SIGTERM before SIGKILL, in milliseconds. */
const STOP_GRACE_MS = 3_000;
/** How many times to try binding when the port is busy. */
const BIND_ATTEMPTS = 5;

const registry = new Set<RedisNode>();

interface Started {
  readonly port: number;
  readonly dir: string;
  readonly server: LaunchedProcess;
}

// A fixed port is retried after a pause (a just-killed server's port can be briefly busy);
// a picked port is replaced by a new free one.
async function startServer(fixedPort: number | undefined, config: ServerConfig): Promise<Started> {
  for (let attempt = 1; ; attempt += 1) {
    const port = fixedPort ?? (await freePort());
    const dir = await mkdtemp(DATA_DIR_PREFIX);
    const args = serverArgs(port, dir, config);
    try {
      const tls = config.tls !== undefined;
      const server = await launch({ port, dir, tls, args, timeoutMs: START_TIMEOUT_MS });
      return { port, dir, server };
    } catch (error) {
      await rm(dir, { recursive: true, force: true });
      if (!isPortInUse(error) || attempt >= BIND_ATTEMPTS) throw error;
      if (fixedPort !== undefined) await sleep(100 * attempt);
    }
  }
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

  private constructor(config: ServerConfig, started: Started) {
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
    const node = new RedisNode(config, await startServer(port, config));
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
    const started = await startServer(this.port, this.#config);
    this.#dir = started.dir;
    this.#process = started.server;
    registry.add(this);
  }

  /**
   * Stops the server: SIGCONT if paused, SIGTERM, SIGKILL if still running after 3 s; then
   * removes its data folder. Safe to call more than once.
   */
  async stop(): Promise<void> {
    if (this.isAlive()) {
      const { child, exited } = this.#process;
      if (this.#paused) child.kill('SIGCONT');
      child.kill('SIGTERM');
      const grace = sleep(STOP_GRACE_MS, undefined, { ref: false });
      if ((await Promise.race([exited, grace])) === undefined) child.kill('SIGKILL');
      await exited;
    }
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

import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NodeAddress } from './contenders/types.js';
import { startServer, stopProcess, type StartedServer } from './redis-server/index.js';

/** One redis-server the bench started. */
export interface LocalNode extends NodeAddress {
  /** Its process id: the only process the bench ever signals. */
  readonly pid: number;
}

/** How long `stop()` waits after SIGTERM before SIGKILL, in ms. */
const STOP_GRACE_MS = 3_000;

/**
 * redis-server processes started for one run on free loopback ports, with no persistence,
 * in temporary folders (`redis-server/`, the start code the test harness uses too). `stop()`
 * ends exactly these processes (by pid) and removes their folders; an exit hook kills any that
 * are left if the process ends another way.
 */
export class LocalCluster {
  readonly #started: StartedServer[] = [];
  readonly #nodes: LocalNode[] = [];

  private constructor() {
    // Made by start() only.
  }

  /**
   * Starts `count` nodes (ids `local-0` …) and waits until each is ready.
   * @throws when redis-server is missing or a node does not come up; what started is stopped
   */
  static async start(count: number, binary?: string): Promise<LocalCluster> {
    const cluster = new LocalCluster();
    try {
      for (let i = 0; i < count; i++) {
        const started = await startServer({
          ...(binary === undefined ? {} : { binary }),
          dirPrefix: join(tmpdir(), 'shardlock-bench-'),
        });
        cluster.#started.push(started);
        cluster.#nodes.push({
          id: `local-${i}`,
          host: '127.0.0.1',
          port: started.port,
          pid: started.server.pid,
        });
      }
    } catch (error) {
      await cluster.stop();
      throw error;
    }
    return cluster;
  }

  /** The running nodes. */
  get nodes(): readonly LocalNode[] {
    return this.#nodes;
  }

  /** Stops every node (SIGTERM, then SIGKILL after 3 s) and removes its folder. */
  async stop(): Promise<void> {
    await Promise.all(
      this.#started.map(async ({ server, dir }) => {
        await stopProcess(server, STOP_GRACE_MS);
        await rm(dir, { recursive: true, force: true });
      }),
    );
    this.#started.length = 0;
    this.#nodes.length = 0;
  }
}

import type { Redis } from 'ioredis';
import { openRedis } from './contenders/connection.js';
import type { ConnectOptions, NodeAddress } from './contenders/types.js';

/** Calls per command name (`set`, `evalsha`, `client|setinfo`), summed over nodes. */
export type CommandCalls = ReadonlyMap<string, number>;

/**
 * Commands left out of a count. `info` is the counting itself; `ping` is the health check
 * that every connected shardlock session sends once a second to every node, also while
 * another contender runs, so counting it would charge other contenders for it (no lock path
 * of any contender uses PING).
 */
export const NOT_COUNTED: ReadonlySet<string> = new Set(['info', 'ping']);

/** Parses the `cmdstat_<name>:calls=<n>,…` lines of `INFO commandstats`. */
function parseCommandStats(info: string): Map<string, number> {
  const calls = new Map<string, number>();
  for (const match of info.matchAll(/^cmdstat_(\S+?):calls=(\d+)/gm)) {
    calls.set(match[1]!, Number(match[2]));
  }
  return calls;
}

/** What was called between two snapshots, without the commands {@link NOT_COUNTED}. */
export function commandDelta(before: CommandCalls, after: CommandCalls): Record<string, number> {
  const byCommand: Record<string, number> = {};
  for (const [name, calls] of after) {
    const delta = calls - (before.get(name) ?? 0);
    if (delta <= 0 || NOT_COUNTED.has(name)) continue;
    byCommand[name] = delta;
  }
  return byCommand;
}

/** One connection per node, kept open for the run, that reads `INFO commandstats`. */
export class CommandCounter {
  readonly #redis: Redis[];

  private constructor(redis: Redis[]) {
    this.#redis = redis;
  }

  /** Connects to every node. */
  static async open(
    nodes: readonly NodeAddress[],
    connect: ConnectOptions,
  ): Promise<CommandCounter> {
    const redis: Redis[] = [];
    try {
      for (const node of nodes) redis.push(await openRedis(node, connect));
    } catch (error) {
      for (const r of redis) r.disconnect();
      throw error;
    }
    return new CommandCounter(redis);
  }

  /** Calls per command so far, summed over the nodes. */
  async snapshot(): Promise<CommandCalls> {
    const infos = await Promise.all(this.#redis.map((redis) => redis.info('commandstats')));
    const sum = new Map<string, number>();
    for (const info of infos) {
      for (const [name, calls] of parseCommandStats(info))
        sum.set(name, (sum.get(name) ?? 0) + calls);
    }
    return sum;
  }

  /** Closes the connections. */
  async close(): Promise<void> {
    await Promise.all(this.#redis.map((redis) => redis.quit()));
  }
}

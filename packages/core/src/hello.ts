import type { Connection } from './connection.js';
import { CommandError, EvictionPolicyError, NodePermissionError } from './errors.js';
import { parseRecord, type ClusterRecord } from './record.js';

/** What the first contact with a server found. */
export interface Hello {
  /** Changes when the server restarts: a restarted server may have lost its data. */
  readonly runId: string;
  /**
   * A lower bound of the server's age, in ms. `uptime_in_seconds` counts the wall-clock
   * second boundaries since the start, so a server 170 ms old may say 1: the client takes
   * one second off and counts the doubt against itself (a longer quarantine, never shorter).
   */
  readonly uptimeMs: number;
  /** An upper bound of the server's age, in ms (`uptime_in_seconds` + 1 s). */
  readonly ageLimitMs: number;
  /** The server's clock at the contact, µs. */
  readonly nowUs: number;
  /** The cluster record the server holds. */
  readonly record: ClusterRecord;
}

/** Keys the first contact uses. */
export interface HelloKeys {
  readonly recordKey: string;
  readonly probeKey: string;
}

const PERMISSION = /NOPERM|no permissions|can't run this command/i;

/**
 * Meets a server: reads its hello, checks every command the client needs (the lock script's
 * own, PING, and EVALSHA/EVAL themselves), and its eviction policy.
 * @throws {@link NodePermissionError} naming a command the user may not run
 * @throws {@link EvictionPolicyError} when the server may evict lock keys (`allkeys-*`)
 * @throws {@link CommandError} when the server refuses the record for another reason
 * @throws the connection's own error when it fails (timeout, closed)
 */
export async function readHello(conn: Connection, keys: HelloKeys, nodeId: string): Promise<Hello> {
  let reply: unknown[];
  try {
    reply = await conn.hello([keys.recordKey, keys.probeKey]);
    await conn.ping();
  } catch (error) {
    throw permissionError(error, nodeId) ?? error;
  }
  const [runId, uptime, nowUs, failures, record] = reply as [
    string,
    unknown,
    unknown,
    string[],
    unknown[],
  ];
  for (const failure of failures) {
    const tab = failure.indexOf('\t');
    const command = failure.slice(0, tab);
    const message = failure.slice(tab + 1);
    if (PERMISSION.test(message)) {
      throw new NodePermissionError(
        `node ${JSON.stringify(nodeId)}: the client's Redis user may not run ${command.toUpperCase()} (${message}); see the README for the commands a lock user needs`,
        command,
        { nodeId },
      );
    }
    throw new CommandError(
      `node ${JSON.stringify(nodeId)} refused ${command.toUpperCase()} on the client's own keys: ${message}`,
      { nodeId },
    );
  }
  const policy = await conn.evictionPolicy();
  if (policy?.startsWith('allkeys-') === true) {
    throw new EvictionPolicyError(
      `node ${JSON.stringify(nodeId)} has maxmemory-policy ${policy}: it may evict held locks and fence counters; use noeviction (or a volatile-* policy with memory to spare)`,
      policy,
      { nodeId },
    );
  }
  return {
    runId,
    uptimeMs: Math.max(0, (Number(uptime) - 1) * 1000),
    ageLimitMs: Number(uptime) < 0 ? Number.POSITIVE_INFINITY : (Number(uptime) + 1) * 1000,
    nowUs: Number(nowUs),
    record: parseRecord(record),
  };
}

function permissionError(error: unknown, nodeId: string): NodePermissionError | undefined {
  const message = (error as Error | undefined)?.message ?? '';
  if (!PERMISSION.test(message)) return undefined;
  const command = /'([\w|]+)' command/.exec(message)?.[1]?.toLowerCase() ?? 'evalsha';
  return new NodePermissionError(
    `node ${JSON.stringify(nodeId)}: the client's Redis user may not run ${command.toUpperCase()} (${message}); see the README for the commands a lock user needs`,
    command,
    { nodeId, cause: error },
  );
}

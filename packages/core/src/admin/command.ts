import { createHash } from 'node:crypto';
import type { Connection } from '../connection.js';
import { NodePermissionError, NodeUnavailableError, type ShardlockError } from '../errors.js';
import type { RedisNode } from '../node.js';

/**
 * What the operator's calls (`inspect`, `locks`, `forceRelease`) need of a node's connection
 * beyond the lock path's {@link Connection}: any command. The production connection has it;
 * the simulator's does not (it runs no operator calls), which is why it is not part of
 * {@link Connection}.
 */
export interface CommandConnection {
  /** Sends one command; rejects with the server's error. */
  call(command: string, args: readonly (string | number)[]): Promise<unknown>;
}

/** A Lua script and its SHA-1, for EVALSHA. */
export interface AdminScript {
  readonly lua: string;
  readonly sha: string;
}

/** Wraps an operator script with its SHA-1. */
export function adminScript(lua: string): AdminScript {
  return { lua, sha: createHash('sha1').update(lua).digest('hex') };
}

const PERMISSION = /NOPERM|no permissions/i;

/**
 * Runs `script` on `node` by SHA (EVALSHA), sending its text (EVAL) when the server does not
 * have it cached yet, as ioredis' own scripts do.
 * @throws {@link NodeUnavailableError} when the node is down or the command fails; `what`
 *   names the operation in the message, the server's error is the cause
 * @throws {@link NodePermissionError} when the node's ACL user may not run a command used
 */
export async function runScript(
  node: RedisNode,
  what: string,
  script: AdminScript,
  keys: readonly string[],
  args: readonly (string | number)[] = [],
): Promise<unknown> {
  const conn = commandsOf(node, what);
  try {
    try {
      return await conn.call('EVALSHA', [script.sha, keys.length, ...keys, ...args]);
    } catch (error) {
      if (!(error as Error).message.includes('NOSCRIPT')) throw error;
      return await conn.call('EVAL', [script.lua, keys.length, ...keys, ...args]);
    }
  } catch (error) {
    throw nodeFailure(node, what, error);
  }
}

/**
 * Sends one command to `node`.
 * @throws as {@link runScript}
 */
export async function runCommand(
  node: RedisNode,
  what: string,
  command: string,
  args: readonly (string | number)[],
): Promise<unknown> {
  const conn = commandsOf(node, what);
  try {
    return await conn.call(command, args);
  } catch (error) {
    throw nodeFailure(node, what, error);
  }
}

function commandsOf(node: RedisNode, what: string): CommandConnection {
  const conn = node.connection as Connection & Partial<CommandConnection>;
  if (node.closed || conn.status !== 'ready') {
    throw new NodeUnavailableError(
      `node ${JSON.stringify(node.id)} (${node.spec.address}) cannot ${what}: its connection is ${node.closed ? 'closed' : conn.status}`,
      { nodeId: node.id },
    );
  }
  if (typeof conn.call !== 'function') {
    throw new NodeUnavailableError(
      `node ${JSON.stringify(node.id)} cannot ${what}: its connection sends lock scripts only`,
      { nodeId: node.id },
    );
  }
  return conn as CommandConnection;
}

/** The typed error of a failed operator command, naming the node and keeping the cause. */
function nodeFailure(node: RedisNode, what: string, cause: unknown): ShardlockError {
  const message = (cause as Error | undefined)?.message ?? String(cause);
  const where = `node ${JSON.stringify(node.id)} (${node.spec.address})`;
  if (PERMISSION.test(message)) {
    const command = /'([\w|]+)' command/.exec(message)?.[1]?.toLowerCase() ?? 'evalsha';
    return new NodePermissionError(
      `${where} refused to ${what}: its Redis user may not run ${command.toUpperCase()} (${message})`,
      command,
      { nodeId: node.id, cause },
    );
  }
  return new NodeUnavailableError(`${where} could not ${what}: ${message}`, {
    nodeId: node.id,
    cause,
  });
}

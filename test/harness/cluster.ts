import { HarnessError } from './errors.js';
import { RedisNode } from './redis-node.js';
import type { RedisNodeOptions } from './redis-node.js';

/** Where a node listens, in the shape the shardlock client takes its node list. */
export interface NodeSpec {
  /** A stable id: the prefix followed by the node's index. */
  readonly id: string;
  /** Its host. */
  readonly host: string;
  /** Its port. */
  readonly port: number;
}

/**
 * Starts `count` independent redis-server nodes in parallel, each on its own free port. If one
 * fails to start, the others are stopped before the error is rethrown.
 * @param count - how many nodes, ≥ 0
 * @param options - applied to every node; no `port`: each node gets a free one
 * @throws {HarnessError} `ERR_INVALID_ARGUMENT` for a bad `count` or a `port`; else the first
 * start failure
 * @example
 * const nodes = await startNodes(3);
 * const specs = nodeSpecs(nodes); // [{ id: 'n0', host: '127.0.0.1', port: … }, …]
 */
export async function startNodes(
  count: number,
  options: RedisNodeOptions = {},
): Promise<RedisNode[]> {
  if (!Number.isSafeInteger(count) || count < 0) {
    const message = `startNodes: count must be an integer ≥ 0, received ${String(count)}`;
    throw new HarnessError('ERR_INVALID_ARGUMENT', message);
  }
  if (options.port !== undefined) {
    const message = `startNodes: options.port must be unset (each node picks a free port), received ${String(options.port)}`;
    throw new HarnessError('ERR_INVALID_ARGUMENT', message, { port: options.port });
  }
  const results = await Promise.allSettled(
    Array.from({ length: count }, () => RedisNode.start(options)),
  );
  const nodes = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failure = results.find((r) => r.status === 'rejected');
  if (failure !== undefined) {
    await Promise.all(nodes.map((node) => node.stop()));
    throw failure.reason;
  }
  return nodes;
}

/**
 * The id, host and port of each node, ids being `${prefix}${index}`.
 * @param nodes - the nodes, in the order their ids are numbered
 * @param prefix - the id prefix
 * @default prefix 'n'
 */
export function nodeSpecs(nodes: readonly RedisNode[], prefix = 'n'): NodeSpec[] {
  return nodes.map((node, i) => ({
    id: `${prefix}${String(i)}`,
    host: node.host,
    port: node.port,
  }));
}

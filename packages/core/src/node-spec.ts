import { InvalidArgumentError } from './errors.js';
import { checkRedisOptions, type UserRedisOptions } from './redis-options.js';
import { checkInteger, checkKnownKeys, checkNumber, received } from './validate.js';

/**
 * One Redis (or Valkey) node: an id that is stable across restarts and address changes
 * (the ring places keys by id), and where to reach it: `url`, or `host` and `port`.
 */
export interface NodeSpec {
  /** Stable id; keys are placed by it, so every client must use the same ids. */
  readonly id: string;
  /** `redis://[user:password@]host:port[/db]` or `rediss://…` for TLS. */
  readonly url?: string;
  /** Host name or address. @default '127.0.0.1' */
  readonly host?: string;
  /** TCP port. @default 6379 */
  readonly port?: number;
  /** Share of keys relative to other nodes. @default 1 */
  readonly weight?: number;
  /** ioredis options for this node only, over the client's `redis` options. */
  readonly redis?: UserRedisOptions;
}

/** A validated {@link NodeSpec}. */
export interface ResolvedNodeSpec {
  readonly id: string;
  readonly weight: number;
  /** `host:port`, for messages and duplicate checks. */
  readonly address: string;
  readonly url: string | undefined;
  readonly host: string;
  readonly port: number;
  readonly redis: UserRedisOptions;
}

const NODE_KEYS = new Set(['id', 'url', 'host', 'port', 'weight', 'redis']);

/**
 * Validates node specs: at least one, unique ids and addresses, a reachable address each.
 * @throws {@link InvalidArgumentError}
 */
export function parseNodeSpecs(nodes: unknown): ResolvedNodeSpec[] {
  if (!Array.isArray(nodes) || nodes.length === 0) {
    throw new InvalidArgumentError(
      `nodes must be a non-empty array of { id, url } or { id, host, port }, received ${received(nodes)}`,
    );
  }
  const ids = new Set<string>();
  const addresses = new Map<string, string>();
  return nodes.map((spec: unknown) => {
    const node = parseNodeSpec(spec);
    if (ids.has(node.id))
      throw new InvalidArgumentError(`node id ${JSON.stringify(node.id)} appears more than once`, {
        nodeId: node.id,
      });
    const other = addresses.get(node.address);
    if (other !== undefined) {
      throw new InvalidArgumentError(
        `nodes ${JSON.stringify(other)} and ${JSON.stringify(node.id)} have the same address ${node.address}`,
        { nodeId: node.id },
      );
    }
    ids.add(node.id);
    addresses.set(node.address, node.id);
    return node;
  });
}

/**
 * Validates one node spec.
 * @throws {@link InvalidArgumentError}
 */
export function parseNodeSpec(spec: unknown): ResolvedNodeSpec {
  checkKnownKeys(spec, NODE_KEYS, 'node');
  const { id, url, host, port, weight, redis } = spec as Record<string, unknown>;
  if (typeof id !== 'string' || id.length === 0 || id.length > 1024) {
    throw new InvalidArgumentError(
      `a node id must be a string of 1 to 1024 characters, received ${received(id)}`,
    );
  }
  // A lone surrogate encodes to U+FFFD: two such ids would be one node to the ring.
  if (!id.isWellFormed()) {
    throw new InvalidArgumentError(
      `a node id must be well-formed UTF-16 (no lone surrogate), received ${received(id)}`,
      { nodeId: id },
    );
  }
  const context = { nodeId: id };
  const checkedWeight = checkNumber(
    weight ?? 1,
    `weight of node ${JSON.stringify(id)}`,
    Number.MIN_VALUE,
    1000,
  );
  const checkedRedis =
    redis === undefined ? {} : checkRedisOptions(redis, `redis of node ${JSON.stringify(id)}`);
  const common = { id, weight: checkedWeight, redis: checkedRedis };
  if (url !== undefined) {
    if (host !== undefined || port !== undefined) {
      throw new InvalidArgumentError(
        `node ${JSON.stringify(id)} gives both url and host/port; give one`,
        context,
      );
    }
    const parsed = parseUrl(url, id);
    return Object.freeze({
      ...common,
      url: url as string,
      host: parsed.host,
      port: parsed.port,
      address: `${parsed.host}:${parsed.port}`,
    });
  }
  if (port === undefined) {
    throw new InvalidArgumentError(`node ${JSON.stringify(id)} needs a url or a port`, context);
  }
  const checkedPort = checkInteger(port, `port of node ${JSON.stringify(id)}`, 1, 65_535);
  const checkedHost = host ?? '127.0.0.1';
  if (typeof checkedHost !== 'string' || checkedHost.length === 0) {
    throw new InvalidArgumentError(
      `host of node ${JSON.stringify(id)} must be a non-empty string, received ${received(host)}`,
      context,
    );
  }
  return Object.freeze({
    ...common,
    url: undefined,
    host: checkedHost,
    port: checkedPort,
    address: `${checkedHost}:${checkedPort}`,
  });
}

function parseUrl(url: unknown, id: string): { host: string; port: number } {
  let parsed: URL;
  try {
    if (typeof url !== 'string') throw new TypeError('not a string');
    parsed = new URL(url);
  } catch (cause) {
    throw new InvalidArgumentError(
      `url of node ${JSON.stringify(id)} must be a redis:// or rediss:// URL, received ${received(url)}`,
      { nodeId: id, cause },
    );
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new InvalidArgumentError(
      `url of node ${JSON.stringify(id)} must use redis:// or rediss://, received ${parsed.protocol}//`,
      { nodeId: id },
    );
  }
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = parsed.port === '' ? 6379 : Number(parsed.port);
  if (host === '')
    throw new InvalidArgumentError(`url of node ${JSON.stringify(id)} has no host`, { nodeId: id });
  return { host, port };
}

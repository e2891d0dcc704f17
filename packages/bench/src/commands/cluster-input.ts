import { readFileSync } from 'node:fs';
import type { LockClientOptions, NodeSpec, UserRedisOptions } from '@shardlock/core';
import { UsageError } from '../args.js';

/** The flags every operator subcommand takes, for `node:util` `parseArgs`. */
export const CLUSTER_FLAGS = {
  nodes: { type: 'string' },
  config: { type: 'string' },
  username: { type: 'string' },
  password: { type: 'string' },
  tls: { type: 'boolean' },
  'tls-ca': { type: 'string' },
  'tls-servername': { type: 'string' },
  'key-prefix': { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Help for {@link CLUSTER_FLAGS}. */
export const CLUSTER_HELP = `Nodes (flags win over environment variables):
  --nodes LIST           comma-separated [id=]host:port or [id=]redis[s]://[user:pw@]host:port
                         (env SHARDLOCK_NODES). A node given without id= takes the id the
                         cluster's record on it names.
  --config FILE          JSON in the shape of LockClientOptions, the applications' own
                         (env SHARDLOCK_CONFIG); --nodes replaces its nodes. Shared settings
                         it leaves out (maxTtl, driftFactor, vnodes, replicas, weights) are
                         read from the cluster's record.
  --username NAME        ACL user (env SHARDLOCK_USERNAME)
  --password PW          its password (env SHARDLOCK_PASSWORD keeps it out of ps and history)
  --tls                  connect with TLS (also: rediss:// nodes)
  --tls-ca FILE          CA certificate (PEM) of the nodes; implies --tls (env SHARDLOCK_TLS_CA)
  --tls-servername NAME  name to verify in the nodes' certificates
  --key-prefix PREFIX    the clients' keyPrefix (env SHARDLOCK_KEY_PREFIX; default shardlock:)
Output:
  --json                 JSON on stdout instead of a table
  -h, --help             this text
`;

/** A node as the command line or config gives it; `id` only when it was named. */
export interface NodeRef {
  readonly id: string | undefined;
  /** `host:port`. */
  readonly address: string;
  /** Where to connect: a url, or host and port; plus the node's own ioredis options. */
  readonly spec: Omit<NodeSpec, 'id'>;
}

/** Who the nodes are and how to reach them, before their records are read. */
export interface ClusterInput {
  /** The client options apart from `nodes`: the config file's, with the flags applied. */
  readonly base: Omit<LockClientOptions, 'nodes'>;
  readonly nodes: readonly NodeRef[];
  /** The shared settings the config file names (the others come from the cluster's record). */
  readonly explicit: ReadonlySet<string>;
}

type Values = Record<string, string | boolean | undefined>;

/**
 * Reads the nodes and options from the flags, the environment and the config file.
 * @throws {@link UsageError} when no node is given, a node or the config cannot be read
 */
export function clusterInput(values: Values, env: NodeJS.ProcessEnv): ClusterInput {
  const flag = (name: string, variable: string): string | undefined => {
    const value = values[name];
    if (typeof value === 'string') return value;
    const fromEnv = env[variable];
    return fromEnv === undefined || fromEnv === '' ? undefined : fromEnv;
  };
  const configPath = flag('config', 'SHARDLOCK_CONFIG');
  const nodesText = flag('nodes', 'SHARDLOCK_NODES');
  if (configPath === undefined && nodesText === undefined) {
    throw new UsageError(
      'give the nodes: --nodes host:port,… or --config shardlock.json (or set SHARDLOCK_NODES or SHARDLOCK_CONFIG)',
    );
  }
  const config = configPath === undefined ? {} : readConfig(configPath);
  const { nodes: configNodes, ...rest } = config;
  const nodes =
    nodesText !== undefined ? parseNodeList(nodesText) : configNodeRefs(configNodes, configPath!);
  const explicit = new Set(
    ['maxTtl', 'driftFactor', 'vnodes', 'replicas'].filter((name) => name in rest),
  );
  let redis: UserRedisOptions = { ...(rest.redis ?? {}) };
  const username = flag('username', 'SHARDLOCK_USERNAME');
  const password = flag('password', 'SHARDLOCK_PASSWORD');
  if (username !== undefined) redis = { ...redis, username };
  if (password !== undefined) redis = { ...redis, password };
  const caFile = flag('tls-ca', 'SHARDLOCK_TLS_CA');
  const servername = values['tls-servername'];
  if (values.tls === true || caFile !== undefined || typeof servername === 'string') {
    const tls: Record<string, unknown> = { ...(redis.tls ?? {}) };
    if (caFile !== undefined) tls.ca = readText(caFile, '--tls-ca');
    if (typeof servername === 'string') tls.servername = servername;
    redis = { ...redis, tls };
  }
  const keyPrefix = flag('key-prefix', 'SHARDLOCK_KEY_PREFIX') ?? rest.keyPrefix;
  return {
    base: { ...rest, redis, ...(keyPrefix === undefined ? {} : { keyPrefix }) },
    nodes,
    explicit,
  };
}

function readText(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(`${what} ${path}: ${(error as Error).message}`);
  }
}

function readConfig(path: string): Partial<LockClientOptions> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readText(path, '--config'));
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(`--config ${path} is not JSON: ${(error as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new UsageError(`--config ${path} must hold an object in the shape of LockClientOptions`);
  }
  return parsed;
}

function configNodeRefs(nodes: unknown, path: string): NodeRef[] {
  if (!Array.isArray(nodes) || nodes.length === 0) {
    throw new UsageError(`--config ${path} has no nodes (and no --nodes was given)`);
  }
  return nodes.map((node: unknown) => {
    if (typeof node !== 'object' || node === null) {
      throw new UsageError(
        `--config ${path}: a node must be an object like { "id", "host", "port" }`,
      );
    }
    const { id, ...spec } = node as NodeSpec;
    const address =
      spec.url === undefined
        ? `${spec.host ?? '127.0.0.1'}:${spec.port ?? 6379}`
        : urlAddress(spec.url);
    return { id, address, spec };
  });
}

const HOST_PORT = /^(\[[^\]]+\]|[^:\s/@]+):(\d{1,5})$/;

/**
 * Parses `--nodes`: `[id=]host:port` or `[id=]redis[s]://…`, comma-separated.
 * @throws {@link UsageError}
 */
export function parseNodeList(text: string): NodeRef[] {
  const seen = new Set<string>();
  return text.split(',').map((raw) => {
    const part = raw.trim();
    const named = /^([^=:/]+)=(.+)$/.exec(part);
    const id = named?.[1];
    const where = named?.[2] ?? part;
    let ref: NodeRef;
    if (/^rediss?:\/\//.test(where)) {
      ref = { id, address: urlAddress(where), spec: { url: where } };
    } else {
      const match = HOST_PORT.exec(where);
      const port = Number(match?.[2]);
      if (match === null || port < 1 || port > 65_535) {
        throw new UsageError(
          `--nodes takes [id=]host:port or [id=]redis://host:port, comma-separated; ${JSON.stringify(part)} is neither`,
        );
      }
      const host = match[1]!.replace(/^\[(.*)\]$/, '$1');
      ref = { id, address: `${host}:${port}`, spec: { host, port } };
    }
    if (seen.has(ref.address)) throw new UsageError(`--nodes lists ${ref.address} twice`);
    seen.add(ref.address);
    return ref;
  });
}

function urlAddress(url: string): string {
  try {
    const parsed = new URL(url);
    const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
    return `${host}:${parsed.port === '' ? '6379' : parsed.port}`;
  } catch {
    throw new UsageError(`${JSON.stringify(url)} is not a redis:// or rediss:// URL`);
  }
}

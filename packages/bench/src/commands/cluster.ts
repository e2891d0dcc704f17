import {
  LockClient,
  NodeUnavailableError,
  type LockClientOptions,
  type LockListError,
  type NodeSpec,
} from '@shardlock/core';
import { UsageError } from '../args.js';
import type { ClusterInput } from './cluster-input.js';
import { discover, type NodeFacts } from './discover.js';
import { println, type CommandIo } from './io.js';

/** The nodes as the applications' clients see them: ids, weights and shared settings. */
export interface Cluster {
  /** Client options for this command: the input's, completed from the cluster's record. */
  readonly options: LockClientOptions;
  /** What each node said, in the order of `options.nodes`. */
  readonly facts: readonly NodeFacts[];
  /** Whether some node holds a cluster record: some client has used these nodes. */
  readonly hasRecord: boolean;
}

const SHARED = ['maxTtl', 'driftFactor', 'vnodes', 'replicas'] as const;

/**
 * Meets the nodes, then completes the options from the cluster's record: a node given
 * without an id takes the id its record names, and each shared setting (and weight) the
 * config leaves out takes the record's value, so that this command places keys as the
 * applications do and never writes settings of its own into a record.
 * @param needIds - refuse a node whose id is unknown (it has no record naming it): a wrong
 *   id would place keys on the wrong node
 * @throws {@link UsageError} for an unnamed node without a record when `needIds`
 */
export async function meetCluster(
  input: ClusterInput,
  options: { readonly needIds: boolean; readonly countLocks?: boolean },
): Promise<Cluster> {
  const facts = await discover(input.nodes, {
    keyPrefix: input.base.keyPrefix ?? 'shardlock:',
    redis: input.base.redis ?? {},
    countLocks: options.countLocks ?? false,
    connectTimeout: 3_000,
  });
  const records = facts.flatMap((f) => (f.record === undefined ? [] : [f.record]));
  const recorded = records.find((record) => record.settings !== undefined)?.settings;
  const adopted: Record<string, number> = {};
  for (const pair of recorded?.split(';') ?? []) {
    const [name, value] = pair.split('=');
    if ((SHARED as readonly string[]).includes(name!) && !input.explicit.has(name!)) {
      adopted[name!] = Number(value);
    }
  }
  const nodes: NodeSpec[] = facts.map(({ ref, record, error }) => {
    const id = ref.id ?? record?.self;
    if (id === undefined && options.needIds) {
      const why =
        error === undefined
          ? 'has no cluster record naming it (never used, or restarted empty)'
          : `could not be reached (${error}), so its id is unknown`;
      throw new UsageError(
        `node ${ref.address} ${why}: give its id as id=${ref.address} in --nodes, or use --config`,
      );
    }
    const nodeId = id ?? ref.address;
    let weight = ref.spec.weight;
    if (weight === undefined) {
      for (const r of records) {
        const entry = r.members.get(nodeId);
        if (entry?.state === 'serving') weight = entry.weight;
      }
    }
    return { ...ref.spec, id: nodeId, ...(weight === undefined ? {} : { weight }) };
  });
  return {
    options: { ...input.base, ...adopted, nodes },
    facts,
    hasRecord: records.length > 0,
  };
}

/**
 * A lock client for the command: its own connections, quiet events (their errors reach the
 * user through the calls that meet them), a short connect timeout.
 * @throws {@link InvalidArgumentError} for bad options
 */
export function commandClient(options: LockClientOptions): LockClient {
  const client = new LockClient({
    ...options,
    redis: { connectTimeout: 3_000, ...(options.redis ?? {}) },
  });
  client.on('nodeError', () => undefined);
  client.on('backgroundError', () => undefined);
  return client;
}

/**
 * For the paths that make no client because no node that answered has a record: says so on
 * stderr when every node answered (nothing is locked then), and returns the nodes that did
 * not answer as the error entries `locks()` yields (what they hold is unknown).
 */
export function noRecord(io: CommandIo, cluster: Cluster): LockListError[] {
  const failed = unreachable(cluster);
  if (failed.length === 0) {
    println(
      io.stderr,
      `shardlock: no node has a cluster record under keyPrefix ${JSON.stringify(cluster.options.keyPrefix ?? 'shardlock:')}: no lock client has used these nodes (or they use another --key-prefix); nothing is locked`,
    );
  }
  return failed;
}

function unreachable(cluster: Cluster): LockListError[] {
  return cluster.facts.flatMap(({ ref, error }, i) => {
    if (error === undefined) return [];
    const nodeId = cluster.options.nodes[i]!.id;
    const failure = new NodeUnavailableError(
      `node ${JSON.stringify(nodeId)} (${ref.address}) failed: ${error}`,
      { nodeId },
    );
    return [{ kind: 'error' as const, nodeId, address: ref.address, error: failure }];
  });
}

/**
 * Prints a node's failure on one line; when the command's own first look at the node failed
 * too, its cause is added (a client's connection that is still reconnecting says no more).
 */
export function nodeFailureLine(
  cluster: Cluster,
  nodeId: string | undefined,
  error: Error,
): string {
  const i = cluster.options.nodes.findIndex((node) => node.id === nodeId);
  const cause = i < 0 ? undefined : cluster.facts[i]!.error;
  return cause === undefined || error.message.includes(cause)
    ? error.message
    : `${error.message} (${cause})`;
}

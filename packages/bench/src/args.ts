import { parseArgs } from 'node:util';
import {
  CONTENDERS,
  DEFAULT_CONTENDED_CONTENDERS,
  DEFAULT_CONTENDERS,
  SHARDLOCK_MODES,
  unfitReason,
} from './contenders/index.js';
import { MAX_ZIPF_KEYS } from './contended/key-chooser.js';
import type { NodeAddress } from './contenders/types.js';

/** A bad command line: printed with the usage, exit code 2, before any node is started. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** The parsed and validated `shardlock bench` command line. */
export interface BenchArgs {
  /** `--nodes`: drive these nodes and start none; `undefined` starts an embedded cluster. */
  readonly nodes: readonly NodeAddress[] | undefined;
  /** Embedded cluster sizes to run, ascending (`--nodes-count 5` or `--nodes-count 1,3,5`). */
  readonly nodeCounts: readonly number[];
  readonly username: string | undefined;
  readonly password: string | undefined;
  readonly tls: boolean;
  readonly tlsCa: string | undefined;
  readonly tlsServername: string | undefined;
  readonly durationMs: number;
  readonly rounds: number;
  readonly operations: number | undefined;
  readonly concurrency: number;
  readonly keySpace: number | undefined;
  /** `--zipf S`: skew of the hot key choice, 0 uniform. */
  readonly zipf: number;
  /** `--clients P`: load processes; `concurrency` is split over them. */
  readonly clients: number;
  /** `--wait-timeout MS`: how long a contended acquire may wait; `undefined` for fresh keys. */
  readonly waitTimeoutMs: number | undefined;
  readonly ttlMs: number;
  readonly holdMs: number;
  readonly retries: number;
  readonly retryDelayMs: number;
  readonly contenders: readonly string[];
  /** `--json FILE` (`-` for stdout). */
  readonly json: string | undefined;
  /** `--out DIR`: report.json, throughput.svg and report.html (and handoff-gap.svg with `--keys`). */
  readonly out: string | undefined;
  readonly help: boolean;
}

/** The usage text. */
export const USAGE = `Usage: shardlock bench [options]

Lock-traffic benchmark: every contender runs the same acquire+release workload against the
same nodes, one after another, and the run ends with a table (and JSON, and a chart).

Nodes (default: an embedded cluster of local redis-server processes, stopped at the end):
  --nodes-count N[,N…]   embedded cluster size, or several sizes to compare   (default 5)
  --nodes H:P[,H:P…]     drive these nodes instead; nothing is started
  --username NAME        ACL user for --nodes
  --password PW          password for --nodes (or env SHARDLOCK_PASSWORD)
  --tls                  connect with TLS
  --tls-ca FILE          CA certificate (PEM) that signed the nodes' certificates
  --tls-servername NAME  name to verify in the nodes' certificates

Workload (the same for every contender):
  --duration SEC         seconds per contender                                (default 5)
  --rounds N             interleave contenders in N rounds of duration/N each, so a
                         machine that slows down for a while slows all alike  (default 5)
  --operations N         stop a contender after N pairs (before --duration)
  --concurrency N        acquire+release pairs in flight, over all clients    (default 256)
  --clients P            load processes: P children of this command drive the nodes at once,
                         each with its own connections and concurrency/P pairs in flight,
                         from a common start; 1 runs the load in this process (default 1)
  --ttl MS               lock lease                                           (default 10000)
  --hold MS              time a holder keeps the lock before releasing        (default 0)
  --retry-delay MS       delay between retries (each contender's own retry
                         mechanism, with its own jitter and backoff)          (default 10)
  --retries N            fresh keys: retries when a key is held               (default 0)
  --contenders LIST      comma-separated, from: ${[...CONTENDERS.keys()].join(', ')}
                         (default, fresh keys: ${DEFAULT_CONTENDERS.join(', ')};
                         hot keys: ${DEFAULT_CONTENDED_CONTENDERS.join(', ')}; mutex
                         only with --clients 1)
  --replicas N[,N…]      the shardlock modes to run: 1 (one owner per key), 3, 5 (quorum of N
                         replicas per key); with the default contenders, replaces shardlock
                         and shardlock-q3                                     (default 1,3)
Contended workload (hot keys; the table shows grants/s against the ideal keys × 1000 / hold,
key utilisation, handoff gap, acquire wait, Redis commands per grant and timeouts):
  --keys N               N hot keys instead of a fresh key per pair
  --zipf S               skew of the key choice: Zipf with exponent S over the N keys, key 0
                         the hottest; each worker draws from its own seeded sequence (default 0,
                         uniform; S > 0 takes at most ${MAX_ZIPF_KEYS.toLocaleString('en-US')} keys)
  --wait-timeout MS      how long an acquire waits for a held key, through each contender's own
                         retry or wait mechanism, before it counts as a timeout; 0 tries
                         once                                                 (default 10000)
  Commands per grant are what the load processes sent through ioredis during a contender's
  slices (health-check PINGs and INFO left out; a batch or script call counts one); the
  JSON also has what the nodes ran by name (INFO commandstats, which on Redis 7.0 counts the
  calls a Lua script makes too).
  A hold never ends before --hold: one setTimeout per process to the earliest deadline, and
  when it fires early (Node's timers may end up to ~0.9 ms short), a check once per event-loop
  turn until the deadline. It may end later (a timer tick, a busy loop): the JSON's
  holdMeanMs is the measured mean, and key utilisation uses the measured holds. Spinning to
  end holds exactly was tried and left out: it kept a core busy that the nodes need.
The load: --concurrency is the total in flight; with --clients P each process runs its share
(concurrency/P) and the contender's own connections; all start each slice at one instant.
Output:
  --json FILE            write the JSON report to FILE ('-' for stdout)
  --out DIR              write report.json, throughput.svg and report.html to DIR, and
                         handoff-gap.svg (the gap's percentiles per contender) with --keys
  -h, --help             show this text
`;

const MAX_DURATION_S = 3_600;

/**
 * Parses `argv` (the words after `bench`).
 * @throws {@link UsageError} for an unknown flag, a bad value, or a contender that cannot run
 */
export function parseBenchArgs(argv: readonly string[], env: NodeJS.ProcessEnv = {}): BenchArgs {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        nodes: { type: 'string' },
        'nodes-count': { type: 'string' },
        username: { type: 'string' },
        password: { type: 'string' },
        tls: { type: 'boolean' },
        'tls-ca': { type: 'string' },
        'tls-servername': { type: 'string' },
        duration: { type: 'string' },
        rounds: { type: 'string' },
        operations: { type: 'string' },
        concurrency: { type: 'string' },
        keys: { type: 'string' },
        zipf: { type: 'string' },
        clients: { type: 'string' },
        'wait-timeout': { type: 'string' },
        ttl: { type: 'string' },
        hold: { type: 'string' },
        retries: { type: 'string' },
        'retry-delay': { type: 'string' },
        contenders: { type: 'string' },
        replicas: { type: 'string' },
        json: { type: 'string' },
        out: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const nodes = values.nodes === undefined ? undefined : parseNodes(values.nodes);
  if (nodes !== undefined && values['nodes-count'] !== undefined) {
    throw new UsageError('give --nodes or --nodes-count, not both');
  }
  const external = nodes !== undefined;
  for (const flag of ['username', 'password', 'tls', 'tls-ca', 'tls-servername'] as const) {
    if (!external && values[flag] !== undefined)
      throw new UsageError(`--${flag} applies to --nodes only`);
  }
  const nodeCounts = external ? [nodes.length] : parseCounts(values['nodes-count'] ?? '5');
  const keySpace = values.keys === undefined ? undefined : integer(values.keys, 'keys', 1, 1, 1e9);
  const hot = keySpace !== undefined;
  for (const flag of ['zipf', 'wait-timeout'] as const) {
    if (!hot && values[flag] !== undefined)
      throw new UsageError(`--${flag} applies to --keys only`);
  }
  if (hot && values.retries !== undefined) {
    throw new UsageError(
      '--retries applies to fresh keys; with --keys an acquire waits up to --wait-timeout',
    );
  }
  const zipf = number(values.zipf, 'zipf', 0, 0, 10);
  if (zipf > 0 && keySpace! > MAX_ZIPF_KEYS) {
    throw new UsageError(`--zipf takes at most ${MAX_ZIPF_KEYS} --keys, received ${keySpace}`);
  }
  const concurrency = integer(values.concurrency, 'concurrency', 256, 1, 10_000);
  const clients = integer(values.clients, 'clients', 1, 1, 64);
  if (clients > concurrency) {
    throw new UsageError(
      `--clients ${clients} needs --concurrency of at least ${clients}, received ${concurrency}`,
    );
  }
  const contenders = parseContenders(values.contenders, values.replicas, {
    mostNodes: Math.max(...nodeCounts),
    hot,
    clients,
  });
  return {
    nodes,
    nodeCounts,
    username: values.username,
    password: values.password ?? (external ? env.SHARDLOCK_PASSWORD : undefined),
    tls: values.tls ?? values['tls-ca'] !== undefined,
    tlsCa: values['tls-ca'],
    tlsServername: values['tls-servername'],
    durationMs: number(values.duration, 'duration', 5, 0.1, MAX_DURATION_S) * 1_000,
    rounds: integer(values.rounds, 'rounds', 5, 1, 100),
    operations:
      values.operations === undefined
        ? undefined
        : integer(values.operations, 'operations', 1, 1, 1e9),
    concurrency,
    keySpace,
    zipf,
    clients,
    waitTimeoutMs: hot
      ? integer(values['wait-timeout'], 'wait-timeout', 10_000, 0, 3_600_000)
      : undefined,
    ttlMs: integer(values.ttl, 'ttl', 10_000, 1, 86_400_000),
    holdMs: integer(values.hold, 'hold', 0, 0, 60_000),
    retries: integer(values.retries, 'retries', 0, 0, 10_000),
    retryDelayMs: integer(values['retry-delay'], 'retry-delay', 10, 0, 60_000),
    contenders,
    json: values.json,
    out: values.out,
    help: values.help ?? false,
  };
}

function parseNodes(text: string): NodeAddress[] {
  const seen = new Set<string>();
  return text.split(',').map((part, i) => {
    const match = /^(\[[^\]]+\]|[^:\s]+):(\d{1,5})$/.exec(part.trim());
    const port = Number(match?.[2]);
    if (match === null || port < 1 || port > 65_535) {
      throw new UsageError(
        `--nodes takes host:port[,host:port…]; ${JSON.stringify(part)} is not host:port`,
      );
    }
    const host = match[1]!.replace(/^\[(.*)\]$/, '$1');
    const address = `${host}:${port}`;
    if (seen.has(address)) throw new UsageError(`--nodes lists ${address} twice`);
    seen.add(address);
    return { id: `node-${i}`, host, port };
  });
}

function parseCounts(text: string): number[] {
  const counts = text.split(',').map((part) => integer(part.trim(), 'nodes-count', 5, 1, 64));
  if (new Set(counts).size !== counts.length)
    throw new UsageError('--nodes-count lists a size twice');
  return counts.sort((a, b) => a - b);
}

/** What the run is like, for choosing contenders. */
interface RunShape {
  /** The run's largest node count. */
  readonly mostNodes: number;
  /** Hot keys (`--keys`). */
  readonly hot: boolean;
  readonly clients: number;
}

function parseContenders(
  text: string | undefined,
  replicas: string | undefined,
  { mostNodes, hot, clients }: RunShape,
): string[] {
  const defaults = hot ? DEFAULT_CONTENDED_CONTENDERS : DEFAULT_CONTENDERS;
  let names = text === undefined ? [...defaults] : text.split(',').map((n) => n.trim());
  for (const name of names) {
    if (!CONTENDERS.has(name)) {
      throw new UsageError(
        `unknown contender ${JSON.stringify(name)}; known: ${[...CONTENDERS.keys()].join(', ')}`,
      );
    }
  }
  if (new Set(names).size !== names.length) throw new UsageError('--contenders lists a name twice');
  const modes = [...SHARDLOCK_MODES.values()].map((contender) => contender.name);
  const asked = replicas === undefined ? undefined : parseReplicas(replicas);
  if (asked !== undefined) {
    if (text !== undefined && names.some((name) => modes.includes(name))) {
      throw new UsageError('give shardlock modes by --contenders or by --replicas, not both');
    }
    // Ours first, as in the default order.
    names = [...asked, ...names.filter((name) => !modes.includes(name))];
  }
  // Contenders that cannot run (an in-process mutex over several processes, or on fresh keys)
  // are left out of the default set, and refused when asked for by name.
  for (const name of names) {
    const contender = CONTENDERS.get(name)!;
    const why = unfitReason(contender, { hot, clients });
    if (why === undefined) continue;
    if (text !== undefined) throw new UsageError(`${name} ${why}`);
    names = names.filter((other) => other !== name);
  }
  // Contenders that need more nodes than the run's largest size are left out of the default
  // set, and refused when asked for by name; a sweep runs the others at the sizes they fit.
  const runnable = names.filter((name) => CONTENDERS.get(name)!.minNodes <= mostNodes);
  if ((text !== undefined || asked !== undefined) && runnable.length !== names.length) {
    const missing = names.find((name) => !runnable.includes(name))!;
    if (text !== undefined || asked?.includes(missing)) {
      throw new UsageError(
        `${missing} needs at least ${CONTENDERS.get(missing)!.minNodes} nodes; the run has ${mostNodes}`,
      );
    }
  }
  return runnable;
}

/** `--replicas 1,3,5`: the contender of each shardlock mode asked for. */
function parseReplicas(text: string): string[] {
  const names = text.split(',').map((part) => {
    const contender = SHARDLOCK_MODES.get(Number(part.trim()));
    if (contender === undefined || part.trim() === '') {
      throw new UsageError(
        `--replicas takes 1, 3 or 5 (or a list); received ${JSON.stringify(part)}`,
      );
    }
    return contender.name;
  });
  if (new Set(names).size !== names.length) throw new UsageError('--replicas lists a count twice');
  return names;
}

function integer(
  text: string | undefined,
  flag: string,
  fallback: number,
  min: number,
  max: number,
): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < min || value > max) {
    throw new UsageError(
      `--${flag} takes a whole number from ${min} to ${max}, received ${JSON.stringify(text)}`,
    );
  }
  return value;
}

function number(
  text: string | undefined,
  flag: string,
  fallback: number,
  min: number,
  max: number,
): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value < min || value > max) {
    throw new UsageError(
      `--${flag} takes a number from ${min} to ${max}, received ${JSON.stringify(text)}`,
    );
  }
  return value;
}

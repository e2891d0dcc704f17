import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { NodeSpec } from '@shardlock/core';
import { LinkProxy, RedisNode, stopAllNodes } from '../harness/index.js';
import {
  believedEnd,
  expiredOnArrival,
  findFenceRegressions,
  findViolations,
  describeViolation,
  type Violation,
  type Grant,
} from '../support/grants.js';
import {
  hrMs,
  startClients,
  type ClientsConfig,
  type RecordedFailure,
  type RecordedGrant,
} from './client-loop.mjs';

/** The faults docs/safety.md names, each injected with real processes and signals. */
export type FaultType =
  'kill' | 'pause' | 'restart-empty' | 'add' | 'remove' | 'stall-client' | PartitionType;
/**
 * Partitions only one client process sees (every link of a process to a node runs through
 * its own {@link LinkProxy}): cut off from one node, from a minority, from a majority (both
 * directions), or its replies from a majority lost while its commands still run.
 */
export type PartitionType = 'cut-one' | 'cut-minority' | 'cut-majority' | 'cut-replies';
const NODE_FAULTS: readonly FaultType[] = [
  'kill',
  'pause',
  'restart-empty',
  'add',
  'remove',
  'stall-client',
];
const PARTITIONS: readonly PartitionType[] = [
  'cut-one',
  'cut-minority',
  'cut-majority',
  'cut-replies',
];

/** How a chaos run is shaped; times in ms. */
export interface ChaosOptions {
  /** Stop injecting faults after this long (the run then drains). */
  readonly durationMs: number;
  readonly seed: number;
  /** Lock lease and the clients' `maxTtl`. */
  readonly maxTtl: number;
  readonly nodes: number;
  readonly childProcesses: number;
  readonly keys: number;
  /** Replicas per key (the clients' `replicas`); 1 when absent. */
  readonly replicas?: 1 | 3;
  /** Also inject partitions that only one client process sees. */
  readonly partitions?: boolean;
}

/** One line of figures (docs/safety.md, "how it is tested"). */
export interface ChaosSummary {
  readonly grants: number;
  readonly faults: Record<FaultType, number>;
  readonly violations: string[];
  readonly fenceRegressions: string[];
  /**
   * Grants already expired when their holder first looked, each right after its process was
   * stopped (one that is not is a violation): never believed, so no part of the checks.
   */
  readonly expiredOnArrival: number;
  /** Per fault type, the longest time some hot key went without a grant after the fault. */
  readonly unavailableMs: Record<FaultType, number>;
  readonly failures: Record<string, number>;
}

/** A fault as injected: a stopped client process also says which, and until when. */
interface Fault {
  readonly type: FaultType;
  readonly at: number;
  readonly process?: string;
  readonly until?: number;
}

// How long after SIGCONT a stopped process may take to look at a lock it was granted before.
const WAKE_SLACK_MS = 500;

const CHILD = fileURLToPath(new URL('./child.mjs', import.meta.url));
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A seeded PRNG (xorshift32), so a run can be repeated. */
function prng(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 2 ** 32;
  };
}

interface Child {
  readonly process: ChildProcess;
  readonly send: (message: unknown) => void;
  readonly stopped: Promise<void>;
}

function startChild(
  config: ClientsConfig,
  grants: RecordedGrant[],
  failures: RecordedFailure[],
): Promise<Child> {
  const child = fork(CHILD, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  let onStopped: () => void = () => undefined;
  const stopped = new Promise<void>((resolve) => (onStopped = resolve));
  return new Promise((resolve, reject) => {
    child.on(
      'message',
      (message: {
        type: string;
        grants?: RecordedGrant[];
        failures?: RecordedFailure[];
        message?: string;
      }) => {
        if (message.type === 'records') {
          grants.push(...(message.grants ?? []));
          failures.push(...(message.failures ?? []));
        } else if (message.type === 'started') {
          resolve({ process: child, send: (m) => child.send(m as never), stopped });
        } else if (message.type === 'stopped') {
          onStopped();
        } else if (message.type === 'error') {
          reject(new Error(`chaos child: ${message.message ?? ''}`));
        }
      },
    );
    child.once('exit', () => onStopped());
    child.send({ type: 'start', config });
  });
}

/**
 * Runs many lock clients (in this process and in child processes) against a few hot keys on
 * real redis-server nodes while faults are injected, then checks every grant: no two believed
 * intervals of a key overlap, and fences only rise.
 */
export async function runChaos(
  options: ChaosOptions,
  log: (line: string) => void = () => undefined,
): Promise<ChaosSummary> {
  const random = prng(options.seed);
  const FAULTS = options.partitions === true ? [...NODE_FAULTS, ...PARTITIONS] : NODE_FAULTS;
  const grants: RecordedGrant[] = [];
  const failures: RecordedFailure[] = [];
  const faults: Fault[] = [];
  const servers = new Map<string, RedisNode>();
  for (let i = 0; i < options.nodes; i++) servers.set(`n${i}`, await RedisNode.start());
  let nextId = options.nodes;
  const names = ['main', ...Array.from({ length: options.childProcesses }, (_, c) => `child${c}`)];
  // With partitions, each process reaches each node through a proxy of its own.
  const links = new Map<string, Map<string, LinkProxy>>();
  const link = async (id: string): Promise<void> => {
    if (options.partitions !== true) return;
    const perProcess = new Map<string, LinkProxy>();
    for (const name of names) {
      perProcess.set(name, await LinkProxy.start({ port: servers.get(id)!.port }));
    }
    links.set(id, perProcess);
  };
  for (const id of servers.keys()) await link(id);
  const spec = (id: string, process: string): NodeSpec => ({
    id,
    host: '127.0.0.1',
    port: links.get(id)?.get(process)?.port ?? servers.get(id)!.port,
  });
  const keys = Array.from({ length: options.keys }, (_, i) => `hot:${i}`);
  const config = (name: string, seed: number): ClientsConfig => ({
    name,
    seed,
    clients: 2,
    workersPerClient: 4,
    nodes: [...servers.keys()].map((id) => spec(id, name)),
    options: {
      replicas: options.replicas ?? 1,
      maxTtl: options.maxTtl,
      healthCheckInterval: 50,
      failureThreshold: 2,
      commandTimeout: 100,
    },
    keys,
    ttl: options.maxTtl,
    maxHold: 10,
  });
  const local = startClients(config('main', options.seed), {
    grant: (g) => grants.push(g),
    failure: (f) => failures.push(f),
  });
  const children: (Child & { readonly name: string })[] = [];
  for (let c = 0; c < options.childProcesses; c++) {
    const name = `child${c}`;
    const child = await startChild(config(name, options.seed + c + 1), grants, failures);
    children.push({ ...child, name });
  }

  // Every client applies a membership change, each after its own lag (under the handoff
  // window minus maxTtl, the bound the client documents).
  const everyone = async (
    apply: (target: 'local' | (Child & { readonly name: string })) => Promise<void> | void,
  ): Promise<void> => {
    const lagged = [local, ...children].map(async (target) => {
      await sleep(random() * options.maxTtl * 0.6);
      await apply(target === local ? 'local' : (target as Child & { readonly name: string }));
    });
    await Promise.all(lagged);
  };
  const serving = (): string[] => [...servers.keys()];
  const pick = (): string => {
    const ids = serving();
    return ids[Math.floor(random() * ids.length)]!;
  };
  const settle = (): Promise<void> => sleep(options.maxTtl * 4);

  /** Injects one fault; `false` when it cannot be injected now, or what it stopped. */
  const inject = async (type: FaultType): Promise<boolean | Omit<Fault, 'type' | 'at'>> => {
    if (type === 'kill') {
      const id = pick();
      await servers.get(id)!.kill();
      await sleep(options.maxTtl * 3);
      await servers.get(id)!.restartEmpty();
    } else if (type === 'pause') {
      const server = servers.get(pick())!;
      server.pause();
      await sleep(options.maxTtl * 3);
      server.resume();
    } else if (type === 'restart-empty') {
      await servers.get(pick())!.restartEmpty();
    } else if (type === 'add') {
      const id = `n${nextId++}`;
      servers.set(id, await RedisNode.start());
      await link(id);
      await everyone((target) =>
        target === 'local'
          ? local.addNode(spec(id, 'main'))
          : target.send({ type: 'addNode', spec: spec(id, target.name) }),
      );
    } else if (type === 'remove') {
      if (servers.size <= 3) return false;
      const id = pick();
      await everyone((target) =>
        target === 'local' ? local.removeNode(id) : target.send({ type: 'removeNode', id }),
      );
      // Its connections close after the handoff window; only then does the server go.
      await sleep(options.maxTtl * 4);
      await servers.get(id)!.stop();
      servers.delete(id);
      for (const proxy of links.get(id)?.values() ?? []) await proxy.close();
      links.delete(id);
    } else if (type.startsWith('cut-')) {
      // One process loses some of its links for a while; what was held is delivered when
      // the cut heals (commands that timed out on the client still run then).
      const name = names[Math.floor(random() * names.length)]!;
      const ids = serving();
      const count =
        type === 'cut-one'
          ? 1
          : type === 'cut-minority'
            ? Math.max(1, Math.floor((ids.length - 1) / 2))
            : Math.floor(ids.length / 2) + 1;
      const cut = ids.sort(() => random() - 0.5).slice(0, count);
      const proxies = cut.map((id) => links.get(id)!.get(name)!);
      for (const proxy of proxies) proxy.set(type === 'cut-replies' ? 'down' : 'both', 'blackhole');
      await sleep(options.maxTtl * 3);
      for (const proxy of proxies) proxy.heal();
      return { process: name };
    } else {
      if (children.length === 0) return false;
      const child = children[Math.floor(random() * children.length)]!;
      child.process.kill('SIGSTOP');
      await sleep(options.maxTtl * 3);
      child.process.kill('SIGCONT');
      return { process: child.name, until: hrMs() };
    }
    return true;
  };

  // Every fault type in turn, for at least one round and until the duration is over.
  const end = hrMs() + options.durationMs;
  for (let f = 0; hrMs() < end || f < FAULTS.length; f++) {
    const type = FAULTS[f % FAULTS.length]!;
    const at = hrMs();
    const injected = await inject(type);
    if (injected === false) continue;
    faults.push({ type, at, ...(injected === true ? {} : injected) });
    log(`fault ${faults.length}: ${type} at ${at.toFixed(1)} ms`);
    await settle();
  }

  await local.stop();
  for (const child of children) child.send({ type: 'stop' });
  await Promise.all(children.map((child) => child.stopped));
  for (const perProcess of links.values())
    for (const proxy of perProcess.values()) await proxy.close();
  await stopAllNodes();
  return summarize(grants, failures, faults, keys, FAULTS);
}

function summarize(
  recorded: RecordedGrant[],
  failureList: RecordedFailure[],
  faults: Fault[],
  keys: string[],
  types: readonly FaultType[],
): ChaosSummary {
  const grants: Grant[] = recorded.map((g) => ({ ...g, fence: BigInt(g.fence) }));
  const counts = Object.fromEntries(types.map((type) => [type, 0])) as Record<FaultType, number>;
  const unavailableMs = Object.fromEntries(types.map((type) => [type, 0])) as Record<
    FaultType,
    number
  >;
  const byKey = new Map<string, number[]>(keys.map((key) => [key, []]));
  for (const grant of grants) byKey.get(grant.key)?.push(grant.grantedAt);
  for (const list of byKey.values()) list.sort((a, b) => a - b);
  for (const fault of faults) {
    counts[fault.type]++;
    for (const times of byKey.values()) {
      const next = times.find((t) => t >= fault.at);
      const gap = (next ?? fault.at) - fault.at;
      unavailableMs[fault.type] = Math.max(unavailableMs[fault.type], Math.round(gap));
    }
  }
  // Which nodes each grant was on, and the last fault before it: what a diagnosis needs.
  const nodesOf = new Map(recorded.map((g) => [g.token, g.nodeIds.join('+')]));
  const explain = (violation: Violation): string => {
    const { first, second } = violation;
    const fault = faults.filter((f) => f.at <= first.grantedAt).at(-1);
    const where = `nodes ${nodesOf.get(first.token) ?? '?'} vs ${nodesOf.get(second.token) ?? '?'}`;
    const after =
      fault === undefined ? 'before any fault' : `after ${fault.type} at ${fault.at.toFixed(1)}`;
    const until = `believed until ${believedEnd(second).toFixed(1)}`;
    return `${describeViolation(violation)}, ${until} (${where}; ${after})`;
  };
  // A grant the holder found expired at its first look: only a stop of its own process, right
  // before that look, explains it (the client checks validity as the reply comes in).
  const expired = expiredOnArrival(grants);
  const unexplained = expired.filter(
    (grant) =>
      !faults.some(
        (fault) =>
          fault.type === 'stall-client' &&
          fault.process === grant.owner.split('/')[0] &&
          fault.at <= grant.grantedAt &&
          grant.grantedAt <= fault.until! + WAKE_SLACK_MS,
      ),
  );
  const failures: Record<string, number> = {};
  for (const failure of failureList) failures[failure.code] = (failures[failure.code] ?? 0) + 1;
  return {
    grants: grants.length,
    faults: counts,
    violations: [
      ...findViolations(grants).map(explain),
      ...unexplained.map(
        (g) =>
          `${g.key}: ${g.owner} fence ${g.fence} granted ${g.grantedAt.toFixed(1)} already expired (believed until ${g.believedUntil.toFixed(1)}), with no stop of its process to explain it`,
      ),
    ],
    expiredOnArrival: expired.length,
    fenceRegressions: findFenceRegressions(grants).map(explain),
    unavailableMs,
    failures,
  };
}

/** The summary as one line of figures. */
export function summaryLine(summary: ChaosSummary): string {
  const faults = Object.entries(summary.faults)
    .map(([type, n]) => `${type} ${n}`)
    .join(', ');
  const unavailable = Object.entries(summary.unavailableMs)
    .map(([type, ms]) => `${type} ${ms}`)
    .join(', ');
  return `chaos: ${summary.grants} grants; faults: ${faults}; ${summary.violations.length} violations; ${summary.fenceRegressions.length} fence regressions; ${summary.expiredOnArrival} expired on arrival after a stop; longest unavailability after a fault (ms): ${unavailable}`;
}

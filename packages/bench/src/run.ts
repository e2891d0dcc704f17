import { readFileSync } from 'node:fs';
import type { BenchArgs } from './args.js';
import { CONTENDERS } from './contenders/index.js';
import { openRedis } from './contenders/connection.js';
import type {
  ConnectOptions,
  ContenderSession,
  LockWorkload,
  NodeAddress,
} from './contenders/types.js';
import { LoadTally, runLoad, type LoadOptions, type LoadProgress } from './load.js';
import { LocalCluster } from './local-cluster.js';
import {
  contenderResult,
  machineInfo,
  REPORT_SCHEMA,
  withRatios,
  type BenchReport,
  type ContenderResult,
} from './results.js';

/** Where a run reports as it goes. */
export interface BenchOutput {
  /** A line of the log (which contender runs now, on how many nodes). */
  line(text: string): void;
  /** Live figures of the running contender; `undefined` when not on a terminal. */
  readonly progress: ((contender: string, progress: LoadProgress) => void) | undefined;
}

/**
 * Runs every contender of `args` against the same nodes, one after another, at each node
 * count; starts and always stops the embedded cluster when no `--nodes` are given.
 * @throws when a node cannot be reached (named by address) or redis-server cannot start
 */
export async function runBench(
  args: BenchArgs,
  output: BenchOutput,
  signal: AbortSignal,
): Promise<BenchReport> {
  const date = new Date().toISOString();
  const connect = connectOptions(args);
  const workload: LockWorkload = {
    ttl: args.ttlMs,
    retries: args.retries,
    retryDelay: args.retryDelayMs,
  };
  const results: ContenderResult[] = [];
  let redisVersion: string | undefined;
  for (const count of args.nodeCounts) {
    if (signal.aborted) break;
    const cluster = args.nodes === undefined ? await LocalCluster.start(count) : undefined;
    try {
      const nodes = args.nodes ?? cluster!.nodes;
      redisVersion ??= await probeNodes(nodes, connect);
      const where =
        cluster === undefined
          ? nodes.map((n) => `${n.host}:${n.port}`)
          : cluster.nodes.map((n) => `${n.host}:${n.port} (pid ${n.pid})`);
      output.line(
        `${cluster === undefined ? 'external' : 'embedded'} cluster of ${nodes.length} node(s): ${where.join(', ')}`,
      );
      results.push(...(await runContenders(nodes, workload, connect, args, output, signal)));
    } finally {
      await cluster?.stop();
    }
  }
  return {
    schema: REPORT_SCHEMA,
    date,
    command: [
      'shardlock',
      'bench',
      ...process.argv.slice(2).filter((word) => word !== 'bench'),
    ].join(' '),
    machine: machineInfo(redisVersion),
    cluster: args.nodes === undefined ? 'embedded' : 'external',
    workload: {
      durationMs: args.durationMs,
      rounds: args.rounds,
      operations: args.operations,
      concurrency: args.concurrency,
      keySpace: args.keySpace ?? null,
      ttlMs: args.ttlMs,
      holdMs: args.holdMs,
      retries: args.retries,
      retryDelayMs: args.retryDelayMs,
    },
    results: withRatios(results),
  };
}

/**
 * Runs every contender against `nodes` in interleaved rounds: each round gives every
 * contender one slice of its time, so a machine that slows down for a while (a shared VM
 * does) slows every contender alike instead of whichever ran then.
 */
async function runContenders(
  nodes: readonly NodeAddress[],
  workload: LockWorkload,
  connect: ConnectOptions,
  args: BenchArgs,
  output: BenchOutput,
  signal: AbortSignal,
): Promise<ContenderResult[]> {
  const contenders = args.contenders
    .map((name) => CONTENDERS.get(name)!)
    .filter((contender) => {
      if (contender.minNodes <= nodes.length) return true;
      output.line(`  ${contender.name}: skipped, needs at least ${contender.minNodes} nodes`);
      return false;
    });
  const sessions: ContenderSession[] = [];
  try {
    for (const contender of contenders) {
      output.line(`  ${contender.name}: ${contender.description}`);
      sessions.push(await contender.connect(nodes, workload, connect));
    }
    const slice = (duration: number, operations: number | undefined): LoadOptions => ({
      duration,
      operations,
      concurrency: args.concurrency,
      keySpace: args.keySpace,
      hold: args.holdMs,
      signal,
    });
    // An unmeasured run first, so every contender is measured with warm JIT and pools.
    const warmup = Math.min(1_000, args.durationMs / 5);
    for (const session of sessions) await runLoad(session, slice(warmup, undefined));
    const tallies = contenders.map(() => new LoadTally());
    const operations =
      args.operations === undefined ? undefined : Math.ceil(args.operations / args.rounds);
    for (let round = 0; round < args.rounds && !signal.aborted; round++) {
      for (const [i, contender] of contenders.entries()) {
        const onProgress =
          output.progress === undefined
            ? undefined
            : (p: LoadProgress) =>
                output.progress?.(`${contender.name} (round ${round + 1}/${args.rounds})`, p);
        await runLoad(
          sessions[i]!,
          {
            ...slice(args.durationMs / args.rounds, operations),
            ...(onProgress === undefined ? {} : { onProgress }),
          },
          tallies[i],
        );
      }
    }
    return contenders.map((contender, i) =>
      contenderResult(
        contender,
        nodes.length,
        Math.min(nodes.length, contender.nodesUsed ?? nodes.length),
        tallies[i]!.result(),
      ),
    );
  } finally {
    await Promise.all(sessions.map((session) => session.close()));
  }
}

/** Checks that every node answers, and returns the first one's Redis version. */
async function probeNodes(
  nodes: readonly NodeAddress[],
  connect: ConnectOptions,
): Promise<string | undefined> {
  let version: string | undefined;
  for (const node of nodes) {
    const redis = await openRedis(node, connect, {
      retryStrategy: () => null,
      connectTimeout: 3_000,
    });
    try {
      version ??= /redis_version:(\S+)/.exec(await redis.info('server'))?.[1];
    } finally {
      redis.disconnect();
    }
  }
  return version;
}

function connectOptions(args: BenchArgs): ConnectOptions {
  const tls = args.tls
    ? {
        ...(args.tlsCa === undefined ? {} : { ca: readFileSync(args.tlsCa) }),
        ...(args.tlsServername === undefined ? {} : { servername: args.tlsServername }),
      }
    : undefined;
  return {
    ...(args.username === undefined ? {} : { username: args.username }),
    ...(args.password === undefined ? {} : { password: args.password }),
    ...(tls === undefined ? {} : { tls }),
  };
}

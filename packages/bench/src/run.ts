import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { BenchArgs } from './args.js';
import { CONTENDERS, unfitReason } from './contenders/index.js';
import { openRedis } from './contenders/connection.js';
import type { ConnectOptions, LockWorkload, NodeAddress } from './contenders/types.js';
import { ForkedDriver } from './clients/forked-driver.js';
import { InProcessDriver, type LoadDriver } from './clients/driver.js';
import type { SliceSpec } from './clients/protocol.js';
import { CommandCounter, commandDelta } from './command-stats.js';
import { concatRecords } from './contended/contention-log.js';
import { contentionFigures, type ContentionFigures, type Window } from './contended/handoff.js';
import { ContendedTally } from './contended/tally.js';
import { LoadTally, type LoadProgress, type SliceResult } from './load.js';
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
    waitTimeout: args.waitTimeoutMs,
    namespace: randomBytes(6).toString('hex'),
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
      zipf: args.zipf,
      clients: args.clients,
      waitTimeoutMs: args.waitTimeoutMs ?? null,
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
 * does) slows every contender alike instead of whichever ran then. The load comes from this
 * process, or from `--clients` child processes that start each slice together.
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
      const why =
        contender.minNodes > nodes.length
          ? `needs at least ${contender.minNodes} nodes`
          : unfitReason(contender, { hot: args.keySpace !== undefined, clients: args.clients });
      if (why === undefined) return true;
      output.line(`  ${contender.name}: skipped, ${why}`);
      return false;
    });
  const driver: LoadDriver =
    args.clients === 1 ? new InProcessDriver() : new ForkedDriver(args.clients);
  const counter = await CommandCounter.open(nodes, connect).catch(async (error: unknown) => {
    await driver.close();
    throw error;
  });
  try {
    for (const contender of contenders)
      output.line(`  ${contender.name}: ${contender.description}`);
    if (args.clients > 1) output.line(`  load from ${args.clients} processes`);
    await driver.connect(contenders, nodes, workload, connect);
    const base = process.hrtime.bigint();
    const slice = (duration: number, operations: number | undefined, seed: number): SliceSpec => ({
      duration,
      operations,
      concurrency: args.concurrency,
      keySpace: args.keySpace,
      zipf: args.zipf,
      hold: args.holdMs,
      seed,
      base,
    });
    // An unmeasured run first, so every contender is measured with warm JIT and pools.
    const warmup = Math.min(1_000, args.durationMs / 5);
    for (const i of contenders.keys()) await driver.run(i, slice(warmup, undefined, 0), { signal });
    const tallies = contenders.map(() => new LoadTally());
    const hot = args.keySpace;
    const contended = contenders.map(() =>
      hot === undefined ? undefined : new ContendedTally(hot, args.holdMs),
    );
    const commands = contenders.map(() => new Map<string, number>());
    const operations =
      args.operations === undefined ? undefined : Math.ceil(args.operations / args.rounds);
    for (let round = 0; round < args.rounds && !signal.aborted; round++) {
      for (const [i, contender] of contenders.entries()) {
        const onProgress =
          output.progress === undefined
            ? undefined
            : (p: LoadProgress) =>
                output.progress?.(`${contender.name} (round ${round + 1}/${args.rounds})`, p);
        const before = await counter.snapshot();
        // The same seed for every contender of a round: they draw the same key sequences.
        const parts = await driver.run(
          i,
          slice(args.durationMs / args.rounds, operations, round + 1),
          {
            signal,
            ...(onProgress === undefined ? {} : { onProgress }),
          },
        );
        const after = await counter.snapshot();
        for (const [name, calls] of Object.entries(commandDelta(before, after))) {
          commands[i]!.set(name, (commands[i]!.get(name) ?? 0) + calls);
        }
        tallies[i]!.add(parts);
        contended[i]?.add(...sliceFigures(parts, hot!));
      }
    }
    return contenders.map((contender, i) => {
      const calls = Object.fromEntries(commands[i]!);
      const grants = contended[i]?.allGrants ?? tallies[i]!.pairs;
      const total = tallies[i]!.commandsSent;
      return contenderResult(
        contender,
        {
          nodes: nodes.length,
          nodesUsed: Math.min(nodes.length, contender.nodesUsed ?? nodes.length),
          clients: args.clients,
          commandsPerGrant:
            contender.nodesUsed === 0 || grants === 0
              ? null
              : Math.round((total / grants) * 100) / 100,
          commands: calls,
          contended: contended[i]?.result() ?? null,
        },
        tallies[i]!.result(),
      );
    });
  } finally {
    await Promise.all([driver.close(), counter.close()]);
  }
}

/** The contended figures of one slice, from the merged logs of its processes. */
function sliceFigures(parts: readonly SliceResult[], keys: number): [ContentionFigures, Window] {
  const window = {
    start: Math.min(...parts.map((part) => part.startedAt)),
    end: Math.max(...parts.map((part) => part.stoppedAt)),
  };
  const records = concatRecords(
    parts.flatMap((part) => (part.records === undefined ? [] : [part.records])),
  );
  return [contentionFigures(records, window, keys), window];
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

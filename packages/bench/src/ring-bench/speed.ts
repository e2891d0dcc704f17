// Lookup speed: owner() and owners(key, 3) against `hashring.get()`, timed by tinybench.
import type { HashRing } from '@shardlock/ring';
import { Bench, type FnReturnedObject, type Task } from 'tinybench';
import type { TableRow } from '../report.js';
import { fixed, int, progress } from './format.js';
import { Hashring, hashringCalls, zeroCache } from './hashring.js';
import { TARGET, type BenchResults } from './results.js';

/** Distinct keys the lookups cycle through. */
export const LOOKUP_KEYS = 1 << 16;
/** Calls per tinybench sample: one call (~200 ns) is too close to the timer's own cost. */
export const BATCH = 1024;

type Completed = Extract<Task['result'], { state: 'completed' }>;

/** Times lookups on `ring` and on `hashring` rings of as many servers; records the targets. */
export async function speedSection(results: BenchResults, ring: HashRing): Promise<void> {
  progress('lookup speed (about 15 s)…');
  const keys = Array.from(
    { length: LOOKUP_KEYS },
    (_, i) => `order:${String(i).padStart(6, '0')}:customer-${(i * 7919) % 100003}`,
  );
  const bytes = keys.map((key) => Buffer.byteLength(key));
  const servers: Record<string, number> = {};
  for (let i = 0; i < ring.size; i++) servers[`127.0.0.1:${7000 + i}`] = 1;
  const names = Object.keys(servers);
  const lruDefault = new Hashring(servers, 'md5', {});
  const lruOne = new Hashring(servers, 'md5', { 'max cache size': 1 });
  const lookups = [hashringCalls(lruDefault, keys), hashringCalls(lruOne, keys)] as const;
  /** A task fn timing `calls` lookups as one sample, reported per call. */
  const batched = (calls: (count: number) => number) => (): FnReturnedObject => {
    const start = performance.now();
    const sum = calls(BATCH);
    const elapsed = performance.now() - start;
    results.keep(sum);
    return { overriddenDuration: elapsed / BATCH, overriddenIterationCost: elapsed };
  };
  let ownerAt = 0;
  let ownersAt = 0;
  // owner() and owners() get loops of their own: a call site shared by several tasks would
  // turn polymorphic and slow every task down alike.
  const bench = new Bench({ time: 3000, warmupTime: 500 })
    .add(
      'HashRing.owner(key)',
      batched((count) => {
        let sum = 0;
        for (let i = 0; i < count; i++, ownerAt = (ownerAt + 1) % LOOKUP_KEYS) {
          sum += ring.owner(keys[ownerAt]!).length;
        }
        return sum;
      }),
    )
    .add(
      'HashRing.owners(key, 3)',
      batched((count) => {
        let sum = 0;
        for (let i = 0; i < count; i++, ownersAt = (ownersAt + 1) % LOOKUP_KEYS) {
          sum += ring.owners(keys[ownersAt]!, 3).length;
        }
        return sum;
      }),
    )
    .add(`hashring.get(key), cache ${lruDefault.cache.maxSize}`, batched(lookups[0].calls))
    .add(`hashring.get(key), cache ${lruOne.cache.maxSize}`, batched(lookups[1].calls));
  const tasks = await bench.run();
  const hits = lookups.map((lookup) => lookup.hits());
  const done = tasks.map(completed);
  const ns = done.map(({ latency }) => latency.mean * 1e6);
  const [owner, owners3, ...hashrings] = ns as [number, number, number, number];
  const rows = done.map(({ latency }, t): TableRow => ({
    task: tasks[t]!.name,
    'ops/s': int(1e9 / ns[t]!),
    'mean ns': fixed(ns[t]!, 1),
    'p50 ns': fixed(latency.p50 * 1e6, 1),
    'p99 ns': fixed(latency.p99 * 1e6, 1),
    'rme %': fixed(latency.rme, 2),
    samples: int(latency.samplesCount),
  }));
  const speedup = Math.min(...hashrings) / owner;
  const ratio = owner / owners3;
  const speedupLimit = `≥ ${TARGET.speedup}×`;
  const ratioLimit = `≥ ${TARGET.owners3}`;
  const speedupVerdict = results.target(
    'owner() ops/s ÷ hashring.get() ops/s, uncached, faster hashring row',
    `${fixed(speedup, 2)}×`,
    speedupLimit,
    speedup >= TARGET.speedup,
  );
  const ratioVerdict = results.target(
    'owners(key, 3) ops/s ÷ owner() ops/s',
    fixed(ratio, 3),
    ratioLimit,
    ratio >= TARGET.owners3,
  );
  results.section(
    `Lookup speed (tinybench, ${ring.size} nodes, ${int(LOOKUP_KEYS)} distinct keys cycled)`,
    rows,
    [
      `Each sample is the mean of ${int(BATCH)} calls on consecutive keys \`order:<i, 6 digits>:customer-<i·7919 mod 100003>\` (${Math.min(...bytes)}–${Math.max(...bytes)} bytes); ns per call, ops/s = 1e9 / mean ns.`,
      `hashring ${Hashring.version}: ${names.length} servers ${names[0]!} … ${names.at(-1)!}, weight 1, md5 (${int(lruDefault.ring.length)} points). Its LRU cache is defeated by the key space: ${int(LOOKUP_KEYS)} keys in a cycle never repeat within ${int(lruDefault.cache.maxSize)} lookups (its default cache size) nor within 1 (the smallest size it takes: with 0, get() ${zeroCache()}). Cache hits over one more full cycle after the run: ${hits.join(' and ')}.`,
      `owner() vs hashring.get(): ${fixed(speedup, 2)}× (target ${speedupLimit}: ${speedupVerdict}). owners(key, 3) vs owner(): ${fixed(ratio, 3)} (target ${ratioLimit}: ${ratioVerdict}).`,
    ],
  );
}

/**
 * The result of a task that ran to the end.
 * @throws Error when the task errored or was aborted, with the task's error as its cause
 */
function completed(task: Task): Completed {
  const { result } = task;
  if (result.state === 'completed') return result;
  const cause = result.state === 'errored' ? result.error : undefined;
  throw new Error(`bench task ${task.name} ended ${result.state}`, { cause });
}

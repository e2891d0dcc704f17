// Runs the same script calls on a real redis-server and on the script model (model.ts) and
// expects the same replies, errors and keys. Each step is one MULTI holding TIME and the
// EVALs, so the model runs at the server's own clock; hello and record pin it to the µs
// their scripts report.
import type { Redis } from 'ioredis';
import { expect } from 'vitest';
import {
  BATCH_SCRIPT,
  HELLO_SCRIPT,
  OP_ACQUIRE,
  OP_EXTEND,
  OP_FENCE,
  OP_RELEASE,
  RECORD_SCRIPT,
  TOKEN_LENGTH,
  opArg,
} from '@shardlock/core/internal';
import { type KeyEvent, ScriptError, ScriptModel } from './model.js';

const SCRIPT = { batch: BATCH_SCRIPT, hello: HELLO_SCRIPT, record: RECORD_SCRIPT };
/** The fence counter, the record and the hello probe key. */
export const [FENCE, RECORD, PROBE] = ['fence', 'record', 'probe'];
/** Far above the clock in µs, so every fence is counter + 1 on both sides. */
export const BASE = 4_000_000_000_000_000;
/** PTTLs differ by the µs between the server's TIME and its script. */
const TOLERANCE_MS = 5;

/** One EVAL: which script, its KEYS and ARGV. */
export interface Call {
  readonly kind: keyof typeof SCRIPT;
  readonly keys: readonly string[];
  readonly args: readonly string[];
  /** A fence from a fresh counter is the server's µs: compare within a few ms. */
  readonly near?: boolean;
  /** The record is a hash table on the server: compare its pairs as a set. */
  readonly unordered?: boolean;
}
/** One batch op: its lock key and ARGV entry. */
export type Op = readonly [key: string, arg: string];

/** A batch: KEYS[1] is the fence counter, then one key per op. */
export const batch = (...ops: Op[]): Call => ({
  kind: 'batch',
  keys: [FENCE, ...ops.map((op) => op[0])],
  args: ops.map((op) => op[1]),
});
/** A hello with these KEYS (record, probe; fewer to pass nils). */
export const hello = (...keys: string[]): Call => ({ kind: 'hello', keys, args: [] });
/** A record call on the record key. */
export const record = (...args: string[]): Call => ({ kind: 'record', keys: [RECORD], args });
/** Batch ops as the client writes them (`opArg`). */
export const acquire = (key: string, token: string, ttl = 30_000, floor = 0): Op => [
  key,
  opArg(OP_ACQUIRE, token, ttl, floor),
];
export const extend = (key: string, token: string, ttl = 30_000): Op => [
  key,
  opArg(OP_EXTEND, token, ttl, 0),
];
export const release = (key: string, token: string): Op => [key, opArg(OP_RELEASE, token, 0, 0)];
export const fence = (floor: number | string): Op => [FENCE, OP_FENCE + String(floor)];

const micros = (time: unknown): number => {
  const [seconds, us] = time as [string, string];
  return Number(seconds) * 1e6 + Number(us);
};
const pairs = (flat: unknown): string[] => {
  const list = flat as string[];
  return list.filter((_, i) => i % 2 === 0).map((field, i) => `${field}=${list[2 * i + 1]!}`);
};

/** Runs calls on a server and on a model and expects the same replies, errors and keys. */
export class Differ {
  #clock = 0;
  /** Extra PTTL tolerance, ms. */
  #slack = 0;
  readonly model: ScriptModel;
  constructor(
    readonly conn: Redis,
    readonly admin: Redis = conn,
    deny: readonly string[] = [],
    listener?: (event: KeyEvent) => void,
  ) {
    this.model = new ScriptModel(() => this.#clock, listener);
    for (const name of deny) this.model.deny.add(name);
  }

  /** Empties both, presets the fence counter and maybe a hash among the lock keys. */
  async reset(counter: number | undefined, hashKey?: string): Promise<void> {
    await this.admin.flushall();
    this.model.flush();
    if (counter !== undefined) await this.set(FENCE, String(counter));
    if (hashKey !== undefined) await this.hset(hashKey, 'f', 'v');
  }

  async set(key: string, value: string): Promise<void> {
    await this.admin.set(key, value);
    this.model.set(key, value);
  }

  async hset(key: string, field: string, value: string): Promise<void> {
    await this.admin.hset(key, field, value);
    this.model.hset(key, field, value);
  }

  /** Copies the server's fence counter to the model (after a `near` fence). */
  async resync(): Promise<void> {
    this.model.set(FENCE, (await this.admin.get(FENCE)) ?? '');
  }

  async run(...calls: Call[]): Promise<void> {
    // A command the ACL refuses inside MULTI would abort the whole transaction.
    const serverTime = !this.model.deny.has('time');
    const withInfo = !this.model.deny.has('info');
    const multi = this.conn.multi();
    if (serverTime) multi.time();
    if (withInfo) multi.info('server');
    for (const c of calls) multi.eval(SCRIPT[c.kind], c.keys.length, ...c.keys, ...c.args);
    const sent = Date.now();
    const results = (await multi.exec()) ?? [];
    const head = results.splice(0, Number(serverTime) + Number(withInfo));
    // Without TIME the model reads this process's clock, as uncertain as the round trip.
    const answered = Date.now();
    if (!serverTime) this.#slack = Math.max(this.#slack, answered - sent);
    const base = serverTime ? (micros(head[0]![1]) + 0.5) / 1000 : (sent + answered) / 2;
    const text = withInfo ? String(head.at(-1)![1]) : '';
    const info = {
      runId: /run_id:(\w+)/.exec(text)?.[1] ?? '',
      uptimeSeconds: Number(/uptime_in_seconds:(\d+)/.exec(text)?.[1] ?? '-1'),
    };
    calls.forEach((call, i) => {
      const [error, reply] = results[i]!;
      this.#compare(call, error, reply, base, info);
    });
  }

  #compare(call: Call, error: Error | null, reply: unknown, base: number, info: Hello): void {
    const nowUs = error === null && call.kind !== 'batch' ? reportedNow(call, reply) : -1;
    // The half µs keeps Math.floor(clock * 1000) on the server's µs despite rounding.
    this.#clock = Math.max(this.#clock, nowUs > 0 ? (nowUs + 0.5) / 1000 : base);
    let mine: unknown[] = [];
    let thrown: string | undefined;
    try {
      if (call.kind === 'batch') mine = this.model.batch(call.keys, call.args);
      else if (call.kind === 'hello') mine = this.model.hello(call.keys, info);
      else mine = this.model.record(call.keys, call.args);
    } catch (e) {
      if (!(e instanceof ScriptError)) throw e;
      thrown = e.message;
    }
    const what = JSON.stringify(call).slice(0, 400);
    expect(thrown, what).toBe(error?.message);
    if (error !== null) return;
    const theirs = reply as unknown[];
    if (call.unordered) {
      expect(pairs(mine[4]).sort(), what).toEqual(pairs(theirs[4]).sort());
      [mine, reply] = [mine.slice(0, 4), theirs.slice(0, 4)];
    }
    const near = (m: unknown, r: unknown): boolean => {
      if (typeof m !== 'number' || typeof r !== 'number' || call.kind !== 'batch') return false;
      if (m < 0 && r < 0) return Math.abs(m - r) <= TOLERANCE_MS + this.#slack;
      return call.near === true && Math.abs(m - r) <= TOLERANCE_MS * 1000;
    };
    expect(
      mine.map((m, j) => (near(m, theirs[j]) ? theirs[j] : m)),
      what,
    ).toEqual(reply);
  }

  /** Every key's type, value, fields and PTTL agree. */
  async checkState(keys: readonly string[]): Promise<void> {
    const multi = this.admin.multi().time();
    for (const key of keys) multi.type(key).pttl(key).get(key).hgetall(key);
    const [head, ...rest] = (await multi.exec())!;
    const time = head![1];
    this.#clock = Math.max(this.#clock, (micros(time) + 0.5) / 1000);
    keys.forEach((key, i) => {
      const [type, pttl, value, hash] = rest.slice(4 * i, 4 * i + 4).map(([e, v]) => e ?? v);
      expect(this.model.get(key), key).toBe(type === 'string' ? value : undefined);
      if (type === 'hash') {
        for (const [field, v] of Object.entries(hash as Record<string, string>)) {
          const mine = this.model.hget(key, field);
          // A waiting mark holds `arrival µs,expiry ms`, read from each side's own clock.
          if (key.includes(':w:')) expect(nearMark(mine, v), `${key}.${field}: ${mine}`).toBe(v);
          else expect(mine, `${key}.${field}`).toBe(v);
        }
      }
      const mine = this.model.pttl(key);
      const tolerance = mine < 0 || (pttl as number) < 0 ? 0 : TOLERANCE_MS + this.#slack;
      expect(Math.abs(mine - (pttl as number)), key).toBeLessThanOrEqual(tolerance);
    });
  }
}

/** `theirs` when `mine` is the same waiting mark within the clocks' tolerance, else `mine`. */
function nearMark(mine: string | undefined, theirs: string): string | undefined {
  const [a, e] = (mine ?? '').split(',').map(Number);
  const [b, f] = theirs.split(',').map(Number);
  const close = Math.abs(a! - b!) <= TOLERANCE_MS * 1000 && Math.abs(e! - f!) <= TOLERANCE_MS;
  return close ? theirs : mine;
}

type Hello = Parameters<ScriptModel['hello']>[1];
const reportedNow = (call: Call, reply: unknown): number =>
  Number((reply as unknown[])[call.kind === 'hello' ? 2 : 3]);

/** mulberry32: a tiny seeded PRNG, so a failing sequence can be replayed by its seed. */
export class Random {
  #state: number;
  constructor(seed: number) {
    this.#state = seed >>> 0;
  }
  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(list: readonly T[]): T {
    return list[this.int(list.length)]!;
  }
  token(): string {
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    return Array.from({ length: TOKEN_LENGTH }, () => alphabet[this.int(64)]!).join('');
  }
}

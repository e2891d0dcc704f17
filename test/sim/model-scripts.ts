// The three scripts of @shardlock/core transcribed to TypeScript statement by statement, with
// Lua 5.1's number and string rules as Redis 7.0 runs them. Strings here are byte strings (one
// char per byte), as Lua sees them; model.ts converts at the edges.
import { createHash } from 'node:crypto';
import {
  BATCH_SCRIPT,
  OP_ACQUIRE,
  OP_EXTEND,
  OP_FAIR,
  OP_FENCE,
  OP_FORGET,
  OP_MARK,
  OP_POLITE,
  OP_QUORUM,
  OP_QUORUM_MARK,
  OP_RELEASE,
  OP_WAIT,
  RECORD_SCRIPT,
  TOKEN_LENGTH,
  TOO_LOW,
  WAIT_MARGIN,
} from '@shardlock/core/internal';
import { compareError, format0, integerReply, luaMax, luaSub, luaToNumber } from './model-lua.js';

/** An error reply as `redis.pcall` hands it to Lua: a table with `err`. */
export class ErrorReply {
  constructor(readonly err: string) {}
}

/** What aborts a script: the error reply Redis sends for the EVAL, message and all. */
export class ScriptError extends Error {
  override readonly name = 'ScriptError';
}

/** A command argument; `undefined` is a Lua nil passed to redis.call (ARGV too short). */
export type Arg = string | undefined;
export type Reply<T> = T | ErrorReply;

/** The commands the scripts run, each replying as `redis.pcall` would. */
export interface Server {
  time(): Reply<readonly [string, string]>;
  info(): Reply<string>;
  setNxPx(key: Arg, value: Arg, ttl: Arg): Reply<'OK' | false>;
  setPx(key: Arg, value: Arg, ttl: Arg): Reply<'OK'>;
  set(key: Arg, value: Arg): Reply<'OK'>;
  get(key: Arg): Reply<string | false>;
  pexpire(key: Arg, ttl: Arg): Reply<number>;
  pttl(key: Arg): Reply<number>;
  del(key: Arg): Reply<number>;
  hgetall(key: Arg): Reply<string[]>;
  hget(key: Arg, field: Arg): Reply<string | false>;
  hset(key: Arg, field: Arg, value: Arg): Reply<number>;
  hdel(key: Arg, field: Arg): Reply<number>;
  exists(key: Arg): Reply<number>;
  /** Delivers nothing in the model: its waiters fall back to their polls. */
  publish(channel: Arg, message: Arg): Reply<number>;
}

/** One script's text, for Redis's error suffix: ` script: <sha1>, on @user_script:<line>.` */
class Script {
  readonly #sha: string;
  readonly #lines: readonly string[];
  constructor(text: string) {
    this.#sha = createHash('sha1').update(text).digest('hex');
    this.#lines = text.split('\n');
  }
  /** The line holding the nth `snippet`; throws at import when the script no longer has it. */
  line(snippet: string, nth = 1): number {
    let seen = 0;
    const index = this.#lines.findIndex((line) => line.includes(snippet) && ++seen === nth);
    if (index < 0) throw new Error(`the script has changed: no ${JSON.stringify(snippet)}`);
    return index + 1;
  }
  /** `redis.call`: a command's error aborts the script with the command's message. */
  call<T>(line: number, reply: Reply<T>): T {
    if (reply instanceof ErrorReply) throw this.abort(line, reply.err);
    return reply;
  }
  /** A Lua runtime error (nil arithmetic, a bad library argument) at `line`. */
  lua(line: number, message: string): ScriptError {
    return this.abort(line, `ERR user_script:${line}: ${message}`);
  }
  abort(line: number, message: string): ScriptError {
    return new ScriptError(`${message} script: ${this.#sha}, on @user_script:${line}.`);
  }
}

/** TIME's `{seconds, micros}` as the scripts combine them. */
const micros = (t: readonly [string, string]): number =>
  luaToNumber(t[0])! * 1e6 + luaToNumber(t[1])!;

// ---- BATCH_SCRIPT ----

const B = new Script(BATCH_SCRIPT);
const BL = {
  sub: B.line('local op = string.sub(arg, 1, 1)'),
  fenceGet: B.line("counter = tonumber(redis.call('GET', KEYS[1]) or '0')", 1),
  compare: B.line('if floor > counter then'),
  acquirePexpire: B.line("redis.call('PEXPIRE', key, ttl)", 2),
  acquireGet: B.line("counter = tonumber(redis.call('GET', KEYS[1]) or '0')", 2),
  time: B.line("local t = redis.call('TIME')"),
  max: B.line('counter = math.max(clock(), counter + 1, floor + 1)'),
  pttl: B.line("local pttl = redis.call('PTTL', key)"),
  extendPexpire: B.line("redis.call('PEXPIRE', key, string.sub(arg,"),
  del: B.line("redis.call('DEL', key)"),
  exists: B.line("if redis.call('EXISTS', KEYS[1] .. ':w:' .. key) == 1 then"),
  qTtl: B.line('local ttl = string.sub(rest, 1, eq - 1)'),
  qLeft: B.line("local left = redis.call('PTTL', key)"),
  qGet: B.line("counter = counter or tonumber(redis.call('GET', KEYS[1]) or '0')"),
  qCompare: B.line('local above = proposal > counter'),
  qPexpire: B.line("redis.call('PEXPIRE', key, ttl)", 1),
  save: B.line("redis.call('SET', KEYS[1], string.format('%.0f', counter))"),
};

/** BATCH_SCRIPT: the reply table, numbers already as integer replies. */
export function runBatch(
  r: Server,
  keys: readonly string[],
  argv: readonly string[],
): (number | string)[] {
  let counter: number | undefined;
  let now: number | undefined;
  let dirty = false;
  const out: (number | string)[] = [];
  const clock = (): number => (now ??= micros(B.call(BL.time, r.time())));
  const load = (line: number): number | undefined => {
    const stored = B.call(line, r.get(keys[0]));
    return luaToNumber(stored === false ? '0' : stored);
  };
  for (let i = 1; i < keys.length; i++) {
    const arg = argv[i - 1];
    if (arg === undefined)
      throw B.lua(BL.sub, "bad argument #1 to 'sub' (string expected, got nil)");
    const op = luaSub(arg, 1, 1);
    const key = keys[i];
    if (op === OP_FENCE) {
      counter ??= load(BL.fenceGet);
      const floor = luaToNumber(luaSub(arg, 2));
      // `floor > counter` is Lua's `counter < floor`: the error names counter's type first.
      if (counter === undefined || floor === undefined)
        throw B.lua(BL.compare, compareError(counter, floor));
      if (floor > counter) {
        counter = floor;
        dirty = true;
      }
      out.push(integerReply(counter));
      continue;
    }
    const token = luaSub(arg, 2, TOKEN_LENGTH + 1);
    if (op === OP_QUORUM || op === OP_QUORUM_MARK) {
      const q = quorumAcquire(r, key, token, luaSub(arg, TOKEN_LENGTH + 2), counter, load);
      counter = q.counter;
      dirty ||= q.dirty;
      if (op === OP_QUORUM_MARK && q.waitFor !== undefined)
        mark(r, clock, waitKey(keys[0], key), token, q.waitFor);
      out.push(q.reply);
      continue;
    }
    if (op === OP_FORGET) {
      r.hdel(waitKey(keys[0], key), token);
      out.push(0);
      continue;
    }
    if (op === OP_EXTEND || op === OP_RELEASE) {
      const held = r.get(key);
      if (held instanceof ErrorReply) out.push(`E${held.err}`);
      else if (held !== token) out.push(0);
      else {
        if (op === OP_EXTEND)
          B.call(BL.extendPexpire, r.pexpire(key, luaSub(arg, TOKEN_LENGTH + 2)));
        else {
          B.call(BL.del, r.del(key));
          if (B.call(BL.exists, r.exists(waitKey(keys[0], key))) === 1) r.publish(keys[0], key);
        }
        out.push(1);
      }
      continue;
    }
    let ttl = luaSub(arg, TOKEN_LENGTH + 2);
    let floor: number | undefined = 0;
    const colon = ttl.indexOf(':');
    if (colon >= 0) {
      floor = luaToNumber(ttl.slice(colon + 1));
      ttl = ttl.slice(0, colon);
    }
    const wait = op === OP_ACQUIRE ? undefined : waitKey(keys[0], key);
    const yieldTo =
      wait !== undefined && (op === OP_POLITE || op === OP_WAIT || op === OP_FAIR)
        ? ahead(r, clock, wait, token, op !== OP_POLITE)
        : undefined;
    let failed: string | undefined;
    let granted = false;
    let held: Reply<string | false> | undefined;
    const set = yieldTo === undefined ? r.setNxPx(key, token, ttl) : false;
    if (set instanceof ErrorReply) failed = set.err;
    else if (set === 'OK') granted = true;
    else {
      held = r.get(key);
      if (held instanceof ErrorReply) failed = held.err;
      else if (held === token) {
        B.call(BL.acquirePexpire, r.pexpire(key, ttl));
        granted = true;
      }
    }
    if (failed !== undefined) out.push(`E${failed}`);
    else if (granted) {
      counter ??= load(BL.acquireGet);
      // math.max's arguments are evaluated left to right: clock() first, then counter + 1.
      const t = clock();
      if (counter === undefined)
        throw B.lua(BL.max, "attempt to perform arithmetic on local 'counter' (a nil value)");
      if (floor === undefined)
        throw B.lua(BL.max, "attempt to perform arithmetic on local 'floor' (a nil value)");
      counter = luaMax(t, counter + 1, floor + 1);
      dirty = true;
      if (wait !== undefined && op !== OP_MARK) r.hdel(wait, token);
      out.push(integerReply(counter));
    } else {
      let pttl = B.call(BL.pttl, r.pttl(key));
      if (held === false && yieldTo !== undefined) pttl = yieldTo;
      pttl = Math.max(pttl, 0);
      if (wait !== undefined) mark(r, clock, wait, token, pttl);
      out.push(integerReply(-1 - pttl));
    }
  }
  if (dirty) B.call(BL.save, r.set(keys[0], format0(counter!)));
  return out;
}

/** The batch script's quorum acquire (`q`): one op, and the counter as it leaves it. */
function quorumAcquire(
  r: Server,
  key: string | undefined,
  token: string,
  rest: string,
  counterIn: number | undefined,
  load: (line: number) => number | undefined,
): { reply: number | string; counter: number | undefined; dirty: boolean; waitFor?: number } {
  let counter = counterIn;
  const at = rest.indexOf('=');
  if (at < 0) throw B.lua(BL.qTtl, "attempt to perform arithmetic on local 'eq' (a nil value)");
  const ttl = rest.slice(0, at);
  const proposal = luaToNumber(rest.slice(at + 1));
  counter ??= load(BL.qGet);
  // `proposal > counter` is Lua's `counter < proposal`: the error names counter's type first.
  if (proposal === undefined || counter === undefined)
    throw B.lua(BL.qCompare, compareError(counter, proposal));
  const above = proposal > counter;
  const put = above ? r.setNxPx(key, token, ttl) : false;
  if (put instanceof ErrorReply) return { reply: `E${put.err}`, counter, dirty: false };
  if (put === 'OK') return { reply: integerReply(proposal), counter: proposal, dirty: true };
  const mine = r.get(key);
  if (mine instanceof ErrorReply) return { reply: `E${mine.err}`, counter, dirty: false };
  if (mine === token) {
    B.call(BL.qPexpire, r.pexpire(key, ttl));
    return { reply: integerReply(proposal), counter: above ? proposal : counter, dirty: above };
  }
  if (mine !== false) {
    const left = Math.max(B.call(BL.qLeft, r.pttl(key)), 0);
    return { reply: integerReply(-1 - left), counter, dirty: false, waitFor: left };
  }
  return { reply: `${TOO_LOW}${format0(counter)}`, counter, dirty: false };
}

/** The hash of `key`'s waiting marks: `KEYS[1] .. ':w:' .. key`. */
const waitKey = (fenceKey: string | undefined, key: string | undefined): string =>
  `${fenceKey!}:w:${key!}`;

/** The script's `mark`: records `token` as waiting `left` ms (and WAIT_MARGIN more). */
function mark(r: Server, clock: () => number, wait: string, token: string, left: number): void {
  const t = clock();
  const entry = r.hget(wait, token);
  if (entry instanceof ErrorReply) return;
  const arrival = entry === false ? format0(t) : /^[^,]*/.exec(entry)![0];
  const life = left + WAIT_MARGIN;
  r.hset(wait, token, `${arrival},${format0(Math.floor(t / 1000) + life)}`);
  const pttl = r.pttl(wait);
  if (typeof pttl === 'number' && pttl < life) r.pexpire(wait, String(life));
}

/**
 * The script's `ahead`: ms until the first live waiter ahead of `token` gives up (any other
 * one, or with `fair` one marked earlier), dropping marks that ran out; undefined when none.
 */
function ahead(
  r: Server,
  clock: () => number,
  wait: string,
  token: string,
  fair: boolean,
): number | undefined {
  const now = clock();
  const ms = Math.floor(now / 1000);
  const all = r.hgetall(wait);
  if (all instanceof ErrorReply) return undefined;
  const arrivalOf = (value: string): number => luaToNumber(/^\d+/.exec(value)?.[0]) ?? 0;
  let mine = now;
  for (let i = 0; i < all.length; i += 2) if (all[i] === token) mine = arrivalOf(all[i + 1]!);
  let first: number | undefined;
  for (let i = 0; i < all.length; i += 2) {
    const value = all[i + 1]!;
    const left = (luaToNumber(/,(\d+)$/.exec(value)?.[1]) ?? 0) - ms;
    if (left <= 0) r.hdel(wait, all[i]);
    else if (all[i] !== token && (!fair || arrivalOf(value) < mine)) {
      if (first === undefined || left < first) first = left;
    }
  }
  return first;
}

// ---- HELLO_SCRIPT ----

/** HELLO_SCRIPT: `[runId, uptime, nowUs, failures, record]`; it has no redis.call, so never throws. */
export function runHello(
  r: Server,
  keys: readonly string[],
): [string, number, number, string[], string[]] {
  const failures: string[] = [];
  const attempt = <T>(name: string, reply: Reply<T>): T | undefined => {
    if (!(reply instanceof ErrorReply)) return reply;
    failures.push(`${name}\t${reply.err}`);
    return undefined;
  };
  let now = -1;
  const t = attempt('time', r.time());
  if (t !== undefined) now = micros(t);
  let runId = '';
  let uptime = -1;
  const info = attempt('info', r.info());
  if (info !== undefined) {
    runId = /run_id:([A-Za-z0-9]+)/.exec(info)?.[1] ?? '';
    uptime = luaToNumber(/uptime_in_seconds:([0-9]+)/.exec(info)?.[1] ?? '-1')!;
  }
  attempt('set', r.setNxPx(keys[1], '1', '1000'));
  attempt('get', r.get(keys[1]));
  attempt('pexpire', r.pexpire(keys[1], '1000'));
  attempt('pttl', r.pttl(keys[1]));
  attempt('del', r.del(keys[1]));
  attempt('exists', r.exists(keys[1]));
  attempt('publish', r.publish(keys[1], ''));
  const record = attempt('hgetall', r.hgetall(keys[0])) ?? [];
  attempt('hget', r.hget(keys[0], 'settings'));
  attempt('hset', r.hset(keys[0], 'hello', format0(now)));
  attempt('hdel', r.hdel(keys[0], 'probe'));
  return [runId, integerReply(uptime), integerReply(now), failures, record];
}

// ---- RECORD_SCRIPT ----

const C = new Script(RECORD_SCRIPT);
const CL = {
  time: C.line("local t = redis.call('TIME')"),
  hget: C.line("local stored = redis.call('HGET', KEYS[1], field)"),
  hset: C.line("redis.call('HSET', KEYS[1], field, value)"),
  inc: C.line("local inc = redis.call('HGET', KEYS[1], 'inc') or ''"),
  trusted: C.line('local trusted = now + tonumber(ARGV[4]) * 1000'),
  keep: C.line('tonumber(from) >= trusted'),
  concat: C.line("inc = ARGV[3] .. ':'"),
  saveInc: C.line("redis.call('HSET', KEYS[1], 'inc', inc)"),
  gsub: C.line("string.gsub(ARGV[i + 1], '@now', nowText)"),
  member: C.line("redis.call('HSET', KEYS[1], ARGV[i], value)"),
};

/** RECORD_SCRIPT: `[settings, self, inc, nowUs]`. */
export function runRecord(
  r: Server,
  keys: readonly string[],
  argv: readonly string[],
): [string, string, string, number] {
  const now = micros(C.call(CL.time, r.time()));
  const nowText = format0(now);
  const record = keys[0];
  const setnx = (field: string, value: Arg): string => {
    const stored = C.call(CL.hget, r.hget(record, field));
    if (stored !== false) return stored;
    C.call(CL.hset, r.hset(record, field, value));
    return value!; // HSET refused a nil value above
  };
  const settings = setnx('settings', argv[0]);
  const self = setnx('self', argv[1]);
  const stored = C.call(CL.inc, r.hget(record, 'inc'));
  let inc = stored === false ? '' : stored;
  if (argv[2] !== '') {
    const ms = luaToNumber(argv[3]); // tonumber(nil) is nil, not an error
    if (ms === undefined) throw C.lua(CL.trusted, 'attempt to perform arithmetic on a nil value');
    let trusted = now + ms * 1000;
    let served = argv[4];
    const match = /^([A-Za-z0-9]+):([0-9]+):([ns])$/.exec(inc);
    if (match?.[1] === argv[2]) {
      const from = luaToNumber(match?.[2]);
      // `from >= trusted` is Lua's `trusted <= from`; from is nil only when ARGV[3] is too
      if (from === undefined) throw C.lua(CL.keep, compareError(trusted, from));
      if (from >= trusted) trusted = from;
      if (match?.[3] === 's') served = 's';
    }
    if (served === undefined)
      throw C.lua(CL.concat, "attempt to concatenate local 'served' (a nil value)");
    inc = `${argv[2]!}:${format0(trusted)}:${served}`;
    C.call(CL.saveInc, r.hset(record, 'inc', inc));
  }
  for (let i = 5; i < argv.length; i += 3) {
    const template = argv[i + 1];
    if (template === undefined)
      throw C.lua(CL.gsub, "bad argument #1 to 'gsub' (string expected, got nil)");
    const value = template.split('@now').join(nowText);
    if (argv[i + 2] === 's') C.call(CL.member, r.hset(record, argv[i], value));
    else setnx(argv[i]!, value);
  }
  return [settings, self, inc, integerReply(now)];
}

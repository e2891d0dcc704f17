// An in-memory Redis that runs shardlock's three Lua scripts exactly as redis-server 7.0 does,
// for the deterministic simulator; model.test.ts checks it against a real server.
import {
  type Arg,
  ErrorReply,
  type Reply,
  runBatch,
  runHello,
  runRecord,
  type Server,
  ScriptError,
} from './model-scripts.js';
import { bytes, LLONG_MAX, string2ll, text } from './model-lua.js';

export { ScriptError };

/** What happened to a lock key, for the simulator's oracles. */
export interface KeyEvent {
  readonly kind: 'set' | 'extend' | 'delete';
  readonly key: string;
  /** The token stored (set/extend) or removed (delete). */
  readonly value: string;
  /** Server ms when it was written. */
  readonly at: number;
  /** Server ms when it expires (set/extend); `at` for delete. */
  readonly expiresAt: number;
}

interface StringEntry {
  readonly type: 'string';
  readonly value: string;
  expiresAt: number | undefined;
}
interface HashEntry {
  readonly type: 'hash';
  readonly fields: Map<string, string>;
  expiresAt: number | undefined;
}
type Entry = StringEntry | HashEntry;

const WRONGTYPE = 'WRONGTYPE Operation against a key holding the wrong kind of value';
const NOT_INTEGER = 'ERR value is not an integer or out of range';
const NO_PERMISSION = "ERR The user executing the script can't run this command or subcommand";
const BAD_ARGUMENT = 'ERR Lua redis lib command arguments must be strings or integers';
/** Expired keys are dropped when touched, and all of them every this many script calls. */
const SWEEP_EVERY = 4096;

/** The commands as one script call sees them: one clock reading, like Redis's script time. */
class Session implements Server {
  constructor(
    private readonly keys: Map<string, Entry>,
    private readonly now: number,
    private readonly deny: ReadonlySet<string>,
    private readonly infoText: string,
    private readonly emit?: Emit,
  ) {}

  // Redis converts the Lua arguments first, then checks the ACL, then runs the command.
  #run<T>(name: string, args: readonly Arg[], command: () => Reply<T>): Reply<T> {
    if (args.includes(undefined)) return new ErrorReply(BAD_ARGUMENT);
    if (this.deny.has(name)) return new ErrorReply(NO_PERMISSION);
    return command();
  }

  #lookup(key: Arg): Entry | undefined {
    return lookup(this.keys, key!, this.now);
  }

  // SET PX and PEXPIRE add the ms to the server's whole-ms time; past LLONG_MAX is an error.
  #overflows(ms: bigint): boolean {
    return ms > LLONG_MAX - BigInt(Math.floor(this.now));
  }

  time(): Reply<readonly [string, string]> {
    const us = Math.floor(this.now * 1000);
    const seconds = Math.floor(us / 1e6);
    return this.#run('time', [], () => [String(seconds), String(us - seconds * 1e6)] as const);
  }

  info(): Reply<string> {
    return this.#run('info', [], () => this.infoText);
  }

  setNxPx(key: Arg, value: Arg, ttl: Arg): Reply<'OK' | false> {
    return this.#setPx(key, value, ttl, true);
  }

  setPx(key: Arg, value: Arg, ttl: Arg): Reply<'OK'> {
    return this.#setPx(key, value, ttl, false) as Reply<'OK'>;
  }

  #setPx(key: Arg, value: Arg, ttl: Arg, nx: boolean): Reply<'OK' | false> {
    return this.#run('set', [key, value, ttl], () => {
      const ms = string2ll(ttl!);
      if (ms === undefined) return new ErrorReply(NOT_INTEGER);
      if (ms <= 0n || this.#overflows(ms)) {
        return new ErrorReply("ERR invalid expire time in 'set' command");
      }
      if (nx && this.#lookup(key) !== undefined) return false; // NX: a key of any type blocks it
      const entry: StringEntry = {
        type: 'string',
        value: value!,
        expiresAt: this.now + Number(ms),
      };
      this.keys.set(key!, entry);
      this.emit?.('set', key!, entry, this.now);
      return 'OK';
    });
  }

  set(key: Arg, value: Arg): Reply<'OK'> {
    return this.#run('set', [key, value], () => {
      this.keys.set(key!, { type: 'string', value: value!, expiresAt: undefined });
      return 'OK';
    });
  }

  get(key: Arg): Reply<string | false> {
    return this.#run('get', [key], () => {
      const entry = this.#lookup(key);
      if (entry === undefined) return false;
      return entry.type === 'string' ? entry.value : new ErrorReply(WRONGTYPE);
    });
  }

  pexpire(key: Arg, ttl: Arg): Reply<number> {
    return this.#run('pexpire', [key, ttl], () => {
      const ms = string2ll(ttl!);
      if (ms === undefined) return new ErrorReply(NOT_INTEGER);
      if (this.#overflows(ms))
        return new ErrorReply("ERR invalid expire time in 'pexpire' command");
      const entry = this.#lookup(key);
      if (entry === undefined) return 0;
      if (ms <= 0n) {
        // A time already past deletes the key (and still replies 1).
        this.keys.delete(key!);
        if (entry.type === 'string') this.emit?.('delete', key!, entry, this.now);
      } else {
        entry.expiresAt = this.now + Number(ms);
        if (entry.type === 'string') this.emit?.('extend', key!, entry, this.now);
      }
      return 1;
    });
  }

  pttl(key: Arg): Reply<number> {
    return this.#run('pttl', [key], () => pttlOf(this.#lookup(key), this.now));
  }

  del(key: Arg): Reply<number> {
    return this.#run('del', [key], () => {
      const entry = this.#lookup(key);
      if (entry === undefined) return 0;
      this.keys.delete(key!);
      if (entry.type === 'string') this.emit?.('delete', key!, entry, this.now);
      return 1;
    });
  }

  hgetall(key: Arg): Reply<string[]> {
    return this.#run('hgetall', [key], () => {
      const entry = this.#lookup(key);
      if (entry === undefined) return [];
      // A listpack hash answers in insertion order (an update keeps its place). Past 128
      // fields or a 64-byte field or value Redis converts it to a hash table, whose order
      // depends on a random seed: the model keeps insertion order there too.
      return entry.type === 'hash' ? [...entry.fields].flat() : new ErrorReply(WRONGTYPE);
    });
  }

  hget(key: Arg, field: Arg): Reply<string | false> {
    return this.#run('hget', [key, field], () => {
      const entry = this.#lookup(key);
      if (entry === undefined) return false;
      return entry.type === 'hash'
        ? (entry.fields.get(field!) ?? false)
        : new ErrorReply(WRONGTYPE);
    });
  }

  hdel(key: Arg, field: Arg): Reply<number> {
    return this.#run('hdel', [key, field], () => {
      const entry = this.#lookup(key);
      if (entry === undefined) return 0;
      if (entry.type !== 'hash') return new ErrorReply(WRONGTYPE);
      const removed = entry.fields.delete(field!) ? 1 : 0;
      if (entry.fields.size === 0) this.keys.delete(key!);
      return removed;
    });
  }

  exists(key: Arg): Reply<number> {
    return this.#run('exists', [key], () => (this.#lookup(key) === undefined ? 0 : 1));
  }

  publish(channel: Arg, message: Arg): Reply<number> {
    return this.#run('publish', [channel, message], () => 0);
  }

  hset(key: Arg, field: Arg, value: Arg): Reply<number> {
    return this.#run('hset', [key, field, value], () => {
      const added = hashSet(this.keys, key!, field!, value!, this.now);
      return added ?? new ErrorReply(WRONGTYPE);
    });
  }
}

function lookup(keys: Map<string, Entry>, key: string, now: number): Entry | undefined {
  const entry = keys.get(key);
  if (entry?.expiresAt === undefined || now < entry.expiresAt) return entry;
  keys.delete(key);
  return undefined;
}

// Whole ms, rounded up: a key reported with n ms left is gone n ms later.
function pttlOf(entry: Entry | undefined, now: number): number {
  if (entry === undefined) return -2;
  return entry.expiresAt === undefined ? -1 : Math.ceil(entry.expiresAt - now);
}

/** HSET: 1 for a new field, 0 for an update, undefined when the key holds a string. */
function hashSet(
  keys: Map<string, Entry>,
  key: string,
  field: string,
  value: string,
  now: number,
): number | undefined {
  let entry = lookup(keys, key, now);
  if (entry === undefined) {
    entry = { type: 'hash', fields: new Map(), expiresAt: undefined };
    keys.set(key, entry);
  }
  if (entry.type !== 'hash') return undefined;
  const added = entry.fields.has(field) ? 0 : 1;
  entry.fields.set(field, value);
  return added;
}

/** Reports a lock key's write, at the script's clock reading. */
type Emit = (kind: KeyEvent['kind'], key: string, entry: StringEntry, at: number) => void;

const decoded = (list: readonly string[]): string[] => list.map(text);

/**
 * The three scripts of `@shardlock/core` on an in-memory keyspace, replying as redis-server
 * 7.0 would: integer replies truncated from Lua's doubles, `E…` strings for refused ops, and
 * the server's exact error (sha1 and line included) thrown as a {@link ScriptError} when a
 * script aborts. Writes made before an abort stay, as in Redis.
 *
 * Time: each script call reads `clock()` once and uses it for TIME, expiry and new TTLs, as
 * Redis freezes key expiry at the script's start. A key expires when `clock() >= expiresAt`.
 */
export class ScriptModel {
  /**
   * Lower-case command names an ACL refuses: the script's redis.pcall of one gets Redis's
   * "ERR The user executing the script can't run this command or subcommand" error table,
   * its redis.call aborts the script with that message.
   */
  readonly deny = new Set<string>();
  readonly #keys = new Map<string, Entry>();
  readonly #clock: () => number;
  readonly #listener: ((event: KeyEvent) => void) | undefined;
  #calls = 0;

  /** @param clock - the server's wall clock in ms (may be fractional); TIME and expiry read it */
  constructor(clock: () => number, listener?: (event: KeyEvent) => void) {
    this.#clock = clock;
    this.#listener = listener;
  }

  /** Empties every key (an empty restart). */
  flush(): void {
    this.#keys.clear();
  }

  /** BATCH_SCRIPT with these KEYS and ARGV; replies exactly as Redis would. */
  batch(keys: readonly string[], args: readonly string[]): (number | string)[] {
    const session = this.#session('', (kind, key, entry, at) => {
      if (this.#listener === undefined) return;
      const expiresAt = kind === 'delete' ? at : (entry.expiresAt ?? Infinity);
      this.#listener({ kind, key: text(key), value: text(entry.value), at, expiresAt });
    });
    const out = runBatch(session, keys.map(bytes), args.map(bytes));
    return out.map((reply) => (typeof reply === 'string' ? text(reply) : reply));
  }

  /** HELLO_SCRIPT; `info` is what INFO server would say. Returns what the script returns. */
  hello(keys: readonly string[], info: { runId: string; uptimeSeconds: number }): unknown[] {
    const infoText = `# Server\r\nrun_id:${bytes(info.runId)}\r\nuptime_in_seconds:${String(info.uptimeSeconds)}\r\n`;
    const [runId, uptime, now, failures, record] = runHello(
      this.#session(infoText),
      keys.map(bytes),
    );
    return [text(runId), uptime, now, decoded(failures), decoded(record)];
  }

  /** RECORD_SCRIPT; returns exactly what the script returns. */
  record(keys: readonly string[], args: readonly string[]): unknown[] {
    const [settings, self, inc, now] = runRecord(
      this.#session(''),
      keys.map(bytes),
      args.map(bytes),
    );
    return [text(settings), text(self), text(inc), now];
  }

  /** A live string value (undefined when absent, expired or a hash). */
  get(key: string): string | undefined {
    const entry = lookup(this.#keys, bytes(key), this.#clock());
    return entry?.type === 'string' ? text(entry.value) : undefined;
  }

  /** PTTL in ms: -2 absent, -1 no expiry. */
  pttl(key: string): number {
    return pttlOf(lookup(this.#keys, bytes(key), this.#clock()), this.#clock());
  }

  /** A hash field (undefined when absent or the key is not a hash). */
  hget(key: string, field: string): string | undefined {
    const entry = lookup(this.#keys, bytes(key), this.#clock());
    const value = entry?.type === 'hash' ? entry.fields.get(bytes(field)) : undefined;
    return value === undefined ? undefined : text(value);
  }

  /** HSET, to store a hash (and provoke WRONGTYPE). @throws when the key holds a string */
  hset(key: string, field: string, value: string): void {
    const added = hashSet(this.#keys, bytes(key), bytes(field), bytes(value), this.#clock());
    if (added === undefined) throw new Error(WRONGTYPE);
  }

  /** Plain SET without expiry, over any type (the fence counter in tests). */
  set(key: string, value: string): void {
    this.#keys.set(bytes(key), { type: 'string', value: bytes(value), expiresAt: undefined });
  }

  #session(infoText: string, emit?: Emit): Session {
    const now = this.#clock();
    if (++this.#calls % SWEEP_EVERY === 0) {
      for (const key of [...this.#keys.keys()]) lookup(this.#keys, key, now);
    }
    return new Session(this.#keys, now, this.deny, infoText, emit);
  }
}

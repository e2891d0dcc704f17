import type { LockEngine } from '../engine.js';
import { InvalidArgumentError, LockAbortedError, type ShardlockError } from '../errors.js';
import type { RedisNode } from '../node.js';
import { checkInteger, checkKnownKeys, received } from '../validate.js';
import { adminScript, runCommand, runScript } from './command.js';
import { LUA_FINGERPRINT } from './fingerprint.js';

/**
 * Reads the leases of the keys one SCAN page found: KEYS[1] is the node's fence counter,
 * KEYS[2..] lock keys. Reply: the counter, then per key its holder's fingerprint and PTTL
 * (`''` and −2 for a key that expired since the SCAN, or holds another type).
 */
const PAGE_SCRIPT = adminScript(`
local out = { redis.call('GET', KEYS[1]) or '0' }
for i = 2, #KEYS do
  local token = redis.pcall('GET', KEYS[i])
  if type(token) == 'string' then
    out[#out + 1] = ${LUA_FINGERPRINT}
    out[#out + 1] = redis.call('PTTL', KEYS[i])
  else
    out[#out + 1] = ''
    out[#out + 1] = -2
  end
end
return out
`);

/** Options of {@link LockClient.locks}. */
export interface LocksOptions {
  /**
   * A Redis glob over lock keys as given to `acquire` (without the key prefix): `order:*`.
   * @default '*'
   */
  readonly match?: string;
  /**
   * SCAN's COUNT hint: keys each node looks at per page. Memory stays within about two pages
   * per node whatever the number of locks.
   * @default 100
   */
  readonly count?: number;
  /** Stops the listing: the iterator then throws `LockAbortedError`. */
  readonly signal?: AbortSignal;
}

/** {@link LocksOptions} validated, with defaults. */
export interface ResolvedLocksOptions {
  readonly match: string;
  readonly count: number;
  readonly signal: AbortSignal | undefined;
}

/** One lease `locks()` found. */
export interface HeldLockEntry {
  readonly kind: 'lock';
  /** The key as given to `acquire` (without the key prefix). */
  readonly key: string;
  readonly nodeId: string;
  /** `host:port`. */
  readonly address: string;
  /** ms the lease has left on this node; −1 when the key never expires (no client writes that). */
  readonly ttl: number;
  /** The holder's token fingerprint (`fingerprintOf`). */
  readonly fingerprint: string;
  /** The node's fence counter when the page was read: the holder's fence is at most this. */
  readonly lastFence: bigint;
}

/** A node `locks()` could not list (down, refused): the listing goes on with the others. */
export interface LockListError {
  readonly kind: 'error';
  readonly nodeId: string;
  /** `host:port`. */
  readonly address: string;
  readonly error: ShardlockError;
}

/** What `locks()` yields: a lease, or a node that failed. */
export type LockListEntry = HeldLockEntry | LockListError;

const OPTION_KEYS = new Set(['match', 'count', 'signal']);

/**
 * Validates {@link LocksOptions}.
 * @throws {@link InvalidArgumentError}
 */
export function resolveLocksOptions(options: LocksOptions | undefined): ResolvedLocksOptions {
  if (options === undefined) return { match: '*', count: 100, signal: undefined };
  checkKnownKeys(options, OPTION_KEYS, 'locks');
  const match = options.match ?? '*';
  if (
    typeof match !== 'string' ||
    match.length === 0 ||
    match.length > 1024 ||
    !match.isWellFormed()
  ) {
    throw new InvalidArgumentError(
      `match must be a glob of 1 to 1024 characters, well-formed UTF-16, received ${received(match)}`,
    );
  }
  const signal = options.signal;
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new InvalidArgumentError(`signal must be an AbortSignal, received ${received(signal)}`);
  }
  return { match, count: checkInteger(options.count ?? 100, 'count', 1, 10_000), signal };
}

/** Escapes glob characters, so a key prefix matches only itself. */
function globEscape(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&');
}

interface Page {
  readonly node: RedisNode;
  readonly entries: readonly LockListEntry[];
  /** The cursor to read next; `undefined` when this node is done. */
  readonly next: string | undefined;
}

/**
 * Lists the leases on every node: SCAN pages (MATCH under the key prefix) per node, the nodes
 * in parallel, each node's next page asked while the current one is consumed. A node that
 * fails yields one error entry and is not asked again; the others go on.
 */
export async function* listLocks(
  engine: LockEngine,
  options: ResolvedLocksOptions,
): AsyncGenerator<LockListEntry, void, undefined> {
  const { signal } = options;
  const prefix = `${engine.options.keyPrefix}lock:`;
  const pattern = globEscape(prefix) + options.match;
  const fenceKey = `${engine.options.keyPrefix}fence`;
  const fetch = async (node: RedisNode, cursor: string): Promise<Page> => {
    try {
      const [next, keys] = (await runCommand(node, 'list locks', 'SCAN', [
        cursor,
        'MATCH',
        pattern,
        'COUNT',
        options.count,
      ])) as [string, string[]];
      const entries: HeldLockEntry[] = [];
      if (keys.length > 0) {
        const reply = (await runScript(node, 'list locks', PAGE_SCRIPT, [fenceKey, ...keys])) as [
          string,
          ...(string | number)[],
        ];
        const lastFence = BigInt(reply[0]);
        keys.forEach((redisKey, i) => {
          const fingerprint = reply[1 + 2 * i] as string;
          if (fingerprint === '') return;
          entries.push({
            kind: 'lock',
            key: redisKey.slice(prefix.length),
            nodeId: node.id,
            address: node.spec.address,
            ttl: Number(reply[2 + 2 * i]),
            fingerprint,
            lastFence,
          });
        });
      }
      return { node, entries, next: next === '0' ? undefined : next };
    } catch (error) {
      const failed: LockListError = {
        kind: 'error',
        nodeId: node.id,
        address: node.spec.address,
        error: error as ShardlockError,
      };
      return { node, entries: [failed], next: undefined };
    }
  };
  throwIfAborted(signal);
  // Nodes still connecting are waited for; a client that refused to start still lists.
  await engine.pool.ready().catch(() => undefined);
  checkClosed(engine);
  const pending = new Map<RedisNode, Promise<Page>>();
  for (const node of engine.pool.nodes.values()) pending.set(node, fetch(node, '0'));
  while (pending.size > 0) {
    const page = await abortable(Promise.race(pending.values()), signal);
    pending.delete(page.node);
    if (page.next !== undefined) pending.set(page.node, fetch(page.node, page.next));
    for (const entry of page.entries) {
      throwIfAborted(signal);
      yield entry;
    }
  }
}

function checkClosed(engine: LockEngine): void {
  try {
    engine.checkOpen();
  } catch (error) {
    // A refusal to start leaves the connections usable for a listing; a close does not.
    if ((error as ShardlockError).code === 'ERR_CLIENT_CLOSED') throw error;
  }
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted === true) throw abortedListing(signal);
}

function abortedListing(signal: AbortSignal): LockAbortedError {
  return new LockAbortedError('listing locks was aborted', { cause: signal.reason });
}

/** `promise`, or a rejection with `LockAbortedError` as soon as `signal` aborts. */
async function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise;
  let onAbort = (): void => undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => {
      reject(abortedListing(signal));
    };
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([promise, aborted]);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

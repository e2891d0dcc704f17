import type { LockEngine } from '../engine.js';
import { InvalidArgumentError, type ShardlockError } from '../errors.js';
import type { Emit } from '../events.js';
import { checkKnownKeys, received } from '../validate.js';
import { adminScript, runScript } from './command.js';
import { FINGERPRINT_LENGTH, LUA_FINGERPRINT } from './fingerprint.js';
import { targetsOf } from './targets.js';

/**
 * Deletes a lock key whatever token it holds, or only when the token's fingerprint is
 * ARGV[1] (when not empty). KEYS[1] is the lock key.
 * Reply: `{ 1 deleted | 0 no key | −1 another holder's, the holder's fingerprint or '' }`.
 */
const FORCE_RELEASE_SCRIPT = adminScript(`
local token = redis.call('GET', KEYS[1])
if not token then return { 0, '' } end
local fingerprint = ${LUA_FINGERPRINT}
if ARGV[1] ~= '' and ARGV[1] ~= fingerprint then return { -1, fingerprint } end
redis.call('DEL', KEYS[1])
return { 1, fingerprint }
`);

/** Options of {@link LockClient.forceRelease}. */
export interface ForceReleaseOptions {
  /**
   * Delete only the lease of the holder with this fingerprint (8 hex characters, as
   * `inspect()`, `locks()` and `fingerprintOf()` give it): a lock that changed hands since
   * the operator looked is left alone.
   * @default undefined (whoever holds it)
   */
  readonly fingerprint?: string;
}

/** What {@link LockClient.forceRelease} did on one node. */
export interface ForceReleasedNode {
  readonly nodeId: string;
  /** `host:port`. */
  readonly address: string;
  /**
   * `deleted`: the lease was deleted; `absent`: the node held none; `kept`: it held another
   * holder's lease than the fingerprint names, which was left; `failed`: see `error`.
   */
  readonly outcome: 'deleted' | 'absent' | 'kept' | 'failed';
  /** The fingerprint of the lease the node held; `undefined` when none (or it failed). */
  readonly fingerprint: string | undefined;
  readonly error: ShardlockError | undefined;
}

/** What {@link LockClient.forceRelease} did. */
export interface ForceReleaseResult {
  readonly key: string;
  /** Whether a lease was deleted on at least one node. */
  readonly released: boolean;
  /** Each node the lease may have been on. */
  readonly nodes: readonly ForceReleasedNode[];
}

const OPTION_KEYS = new Set(['fingerprint']);
const FINGERPRINT = new RegExp(`^[0-9a-f]{${FINGERPRINT_LENGTH}}$`);

/**
 * Validates {@link ForceReleaseOptions}; the fingerprint in lower case.
 * @throws {@link InvalidArgumentError}
 */
export function checkForceReleaseOptions(
  options: ForceReleaseOptions | undefined,
  key: string,
): string | undefined {
  if (options === undefined) return undefined;
  checkKnownKeys(options, OPTION_KEYS, 'forceRelease');
  const { fingerprint } = options;
  if (fingerprint === undefined) return undefined;
  const lower = typeof fingerprint === 'string' ? fingerprint.toLowerCase() : fingerprint;
  if (typeof lower !== 'string' || !FINGERPRINT.test(lower)) {
    throw new InvalidArgumentError(
      `fingerprint must be ${FINGERPRINT_LENGTH} hex characters, as inspect() gives it, received ${received(fingerprint)}`,
      { key },
    );
  }
  return lower;
}

/**
 * Deletes `key`'s lease on every node it may be on, in parallel, and emits `forceRelease`
 * when one was deleted.
 * @throws the first node's error when no node answered
 */
export async function forceRelease(
  engine: LockEngine,
  emit: Emit,
  key: string,
  fingerprint: string | undefined,
): Promise<ForceReleaseResult> {
  const { nodes } = targetsOf(engine, key);
  const lockKey = `${engine.options.keyPrefix}lock:${key}`;
  const results = await Promise.allSettled(
    nodes.map((node) =>
      runScript(node, 'force a release', FORCE_RELEASE_SCRIPT, [lockKey], [fingerprint ?? '']),
    ),
  );
  const done: ForceReleasedNode[] = results.map((result, i) => {
    const node = nodes[i]!;
    const base = { nodeId: node.id, address: node.spec.address };
    if (result.status === 'rejected') {
      const error = result.reason as ShardlockError;
      return { ...base, outcome: 'failed', fingerprint: undefined, error };
    }
    const [code, held] = result.value as [number, string];
    const outcome = code === 1 ? 'deleted' : code === 0 ? 'absent' : 'kept';
    return { ...base, outcome, fingerprint: held === '' ? undefined : held, error: undefined };
  });
  if (done.length > 0 && done.every((node) => node.outcome === 'failed')) throw done[0]!.error!;
  const deleted = done.filter((node) => node.outcome === 'deleted');
  if (deleted.length > 0) {
    emit('forceRelease', {
      key,
      nodeIds: deleted.map((node) => node.nodeId),
      fingerprints: [...new Set(deleted.map((node) => node.fingerprint!))],
    });
  }
  return { key, released: deleted.length > 0, nodes: done };
}

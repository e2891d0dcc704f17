import { createHash } from 'node:crypto';

/** Length of a token fingerprint, in hex characters (32 bits). */
export const FINGERPRINT_LENGTH = 8;

/**
 * A short, stable name of a lock token that does not reveal it: the first 8 hex characters
 * of the token's SHA-1. Operators see it in `inspect()`, `locks()` and the `shardlock`
 * command, and pass it to `forceRelease()` to delete one holder's lease and no other's; a
 * holder can log `fingerprintOf(lock.token)` to be found by it. The servers compute the same
 * value (`redis.sha1hex` in the admin scripts), so the full token never leaves them on an
 * operator's path. 32 bits name a holder among the few that ever hold one key; they are no
 * secret and give nothing to forge (a release still needs the whole token).
 *
 * @example
 * ```ts
 * const lock = await client.acquire('order:42');
 * log.info({ key: lock.key, holder: fingerprintOf(lock.token) }, 'locked');
 * ```
 */
export function fingerprintOf(token: string): string {
  return createHash('sha1').update(token).digest('hex').slice(0, FINGERPRINT_LENGTH);
}

/** The Lua expression of a token's fingerprint, for the admin scripts (`token` is a Lua variable). */
export const LUA_FINGERPRINT = `string.sub(redis.sha1hex(token), 1, ${FINGERPRINT_LENGTH})`;

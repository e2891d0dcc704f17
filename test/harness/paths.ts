import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The monorepo root, worked out from this file's location (`test/harness/` is two levels down). */
export const REPO_ROOT: string = fileURLToPath(new URL('../../', import.meta.url));

/** The git-ignored scratch folder the harness writes its bookkeeping to. */
export const HARNESS_TMP_DIR: string = join(REPO_ROOT, '.tmp');

/** The ledger of every redis-server the harness spawned, one line each; read by the global teardown. */
export const PID_LEDGER_FILE: string = join(HARNESS_TMP_DIR, 'harness-pids');

/**
 * Prefix of the per-server data folders under the OS temp dir. The teardown only ever removes
 * folders that start with it.
 */
export const DATA_DIR_PREFIX: string = join(tmpdir(), 'shardlock-redis-');

// The redis-server executable (`$REDIS_SERVER`, else `redis-server` from `PATH`), as the
// shared start code resolves it.
export { REDIS_SERVER_BIN } from '@shardlock/bench/redis-server';

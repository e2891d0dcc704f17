/**
 * Stable codes of {@link RedisServerError}:
 * - `ERR_REDIS_SPAWN`: the redis-server executable could not be started at all.
 * - `ERR_REDIS_EXITED`: redis-server exited before it was ready (bad flag, port taken, …).
 * - `ERR_REDIS_NOT_READY`: redis-server did not answer within the start timeout.
 * - `ERR_REDIS_NOT_RUNNING`: a signal was asked for a node whose process is gone.
 * - `ERR_OPENSSL`: an openssl command failed while making test certificates.
 * - `ERR_REDIS_MISSING`: the global setup could not run `redis-server --version`.
 * - `ERR_INVALID_ARGUMENT`: a harness function was called with a bad argument.
 */
export type RedisServerErrorCode =
  | 'ERR_REDIS_SPAWN'
  | 'ERR_REDIS_EXITED'
  | 'ERR_REDIS_NOT_READY'
  | 'ERR_REDIS_NOT_RUNNING'
  | 'ERR_OPENSSL'
  | 'ERR_REDIS_MISSING'
  | 'ERR_INVALID_ARGUMENT';

/** Context carried by a {@link RedisServerError}; every field is optional. */
export interface RedisServerErrorContext {
  /** The port the server was (to be) listening on. */
  readonly port?: number;
  /** The pid of the redis-server process concerned. */
  readonly pid?: number;
  /** The last lines the process wrote to stdout/stderr, oldest first. */
  readonly output?: readonly string[];
  /** The underlying error. */
  readonly cause?: unknown;
}

/**
 * The one error the redis-server helpers (and the test harness built on them) throw: a stable
 * `code` plus what is known about the process.
 */
export class RedisServerError extends Error {
  /** Stable machine-readable code. */
  readonly code: RedisServerErrorCode;
  /** See {@link RedisServerErrorContext.port}. */
  readonly port: number | undefined;
  /** See {@link RedisServerErrorContext.pid}. */
  readonly pid: number | undefined;
  /** See {@link RedisServerErrorContext.output}. */
  readonly output: readonly string[];

  /**
   * @param code - stable code, see {@link RedisServerErrorCode}
   * @param message - what went wrong; the process output is appended to it when given
   * @param context - port, pid, output and cause
   */
  constructor(code: RedisServerErrorCode, message: string, context: RedisServerErrorContext = {}) {
    const output = context.output ?? [];
    const tail = output.length > 0 ? `\n--- last output ---\n${output.join('\n')}` : '';
    super(`${message}${tail}`, 'cause' in context ? { cause: context.cause } : undefined);
    this.name = 'RedisServerError';
    this.code = code;
    this.port = context.port;
    this.pid = context.pid;
    this.output = output;
  }
}

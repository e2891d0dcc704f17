/**
 * Stable codes of {@link HarnessError}:
 * - `ERR_REDIS_SPAWN`: the redis-server executable could not be started at all.
 * - `ERR_REDIS_EXITED`: redis-server exited before it was ready (bad flag, port taken, …).
 * - `ERR_REDIS_NOT_READY`: redis-server did not answer within the start timeout.
 * - `ERR_REDIS_NOT_RUNNING`: a signal was asked for a node whose process is gone.
 * - `ERR_OPENSSL`: an openssl command failed while making test certificates.
 * - `ERR_REDIS_MISSING`: the global setup could not run `redis-server --version`.
 * - `ERR_INVALID_ARGUMENT`: a harness function was called with a bad argument.
 */
export type HarnessErrorCode =
  | 'ERR_REDIS_SPAWN'
  | 'ERR_REDIS_EXITED'
  | 'ERR_REDIS_NOT_READY'
  | 'ERR_REDIS_NOT_RUNNING'
  | 'ERR_OPENSSL'
  | 'ERR_REDIS_MISSING'
  | 'ERR_INVALID_ARGUMENT';

/** Context carried by a {@link HarnessError}; every field is optional. */
export interface HarnessErrorContext {
  /** The port the server was (to be) listening on. */
  readonly port?: number;
  /** The pid of the redis-server process concerned. */
  readonly pid?: number;
  /** The last lines the process wrote to stdout/stderr, oldest first. */
  readonly output?: readonly string[];
  /** The underlying error. */
  readonly cause?: unknown;
}

/** The one error the harness throws: a stable `code` plus what is known about the process. */
export class HarnessError extends Error {
  /** Stable machine-readable code. */
  readonly code: HarnessErrorCode;
  /** See {@link HarnessErrorContext.port}. */
  readonly port: number | undefined;
  /** See {@link HarnessErrorContext.pid}. */
  readonly pid: number | undefined;
  /** See {@link HarnessErrorContext.output}. */
  readonly output: readonly string[];

  /**
   * @param code - stable code, see {@link HarnessErrorCode}
   * @param message - what went wrong; the process output is appended to it when given
   * @param context - port, pid, output and cause
   */
  constructor(code: HarnessErrorCode, message: string, context: HarnessErrorContext = {}) {
    const output = context.output ?? [];
    const tail = output.length > 0 ? `\n--- last output ---\n${output.join('\n')}` : '';
    super(`${message}${tail}`, 'cause' in context ? { cause: context.cause } : undefined);
    this.name = 'HarnessError';
    this.code = code;
    this.port = context.port;
    this.pid = context.pid;
    this.output = output;
  }
}

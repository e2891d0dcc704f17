import { LockAbortedError } from './errors.js';
import type { Runtime } from './runtime.js';

/** Whether `signal` has aborted (a function, so checks are not narrowed away by TypeScript). */
export function isAborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true;
}

/** The abort error for `signal`, keeping its reason as cause. */
export function abortError(
  signal: AbortSignal | undefined,
  key: string | undefined,
): LockAbortedError {
  return new LockAbortedError(`acquire of ${JSON.stringify(key)} was aborted`, {
    key,
    cause: signal?.reason,
  });
}

/**
 * Waits `ms` on the runtime's timers (which never keep the process alive by themselves), or
 * rejects with {@link LockAbortedError} as soon as `signal` aborts.
 */
export function sleep(
  runtime: Runtime,
  ms: number,
  signal: AbortSignal | undefined,
  key?: string,
): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted === true) {
      reject(abortError(signal, key));
      return;
    }
    const onAbort = (): void => {
      runtime.clearTimeout(timer);
      reject(abortError(signal, key));
    };
    const timer = runtime.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

import type { ConnectOptions, LockWorkload, NodeAddress } from '../contenders/types.js';
import type { LoadOptions, SliceResult } from '../load.js';

/** One slice of load as a process is told to run it: {@link LoadOptions} without the callbacks. */
export type SliceSpec = Omit<LoadOptions, 'signal' | 'onProgress'>;

/** What the parent tells a load process (over IPC, structured clone: bigints and typed arrays pass). */
export type ToChild =
  | {
      readonly type: 'connect';
      readonly contenders: readonly string[];
      readonly nodes: readonly NodeAddress[];
      readonly workload: LockWorkload;
      readonly connect: ConnectOptions;
    }
  | {
      readonly type: 'run';
      /** Index into the connected contenders. */
      readonly contender: number;
      readonly spec: SliceSpec;
      /** The common start, on `process.hrtime.bigint()`'s clock. */
      readonly startAt: bigint;
    }
  | { readonly type: 'abort' }
  | { readonly type: 'close' };

/** What a load process answers. */
export type FromChild =
  | { readonly type: 'connected' }
  | { readonly type: 'result'; readonly result: SliceResult }
  | { readonly type: 'closed' }
  | { readonly type: 'failed'; readonly message: string };

/**
 * Resolves at `at` on `process.hrtime.bigint()`'s clock: a timer until 2 ms before, then a
 * check per event-loop turn, so the processes of a run start within a loop turn of each other.
 */
export async function waitUntil(at: bigint): Promise<void> {
  const left = (): number => Number(at - process.hrtime.bigint()) / 1e6;
  if (left() > 2) await new Promise((resolve) => setTimeout(resolve, left() - 2));
  while (left() > 0) await new Promise((resolve) => setImmediate(resolve));
}

/** `total` split over `parts` as evenly as whole numbers allow; the first ones get the extra. */
export function share(total: number, parts: number, index: number): number {
  return Math.floor(total / parts) + (index < total % parts ? 1 : 0);
}

import type {
  ConnectOptions,
  Contender,
  ContenderSession,
  LockWorkload,
  NodeAddress,
} from '../contenders/types.js';
import { runLoad, type LoadProgress, type SliceResult } from '../load.js';
import type { SliceSpec } from './protocol.js';

/** Live extras of a slice that stay in the parent. */
export interface SliceControl {
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: LoadProgress) => void;
}

/** Runs slices of load for a contender from one or several processes. */
export interface LoadDriver {
  /** Load processes (1: this one). */
  readonly clients: number;
  /** Connects every contender, in order; slices name them by index. */
  connect(
    contenders: readonly Contender[],
    nodes: readonly NodeAddress[],
    workload: LockWorkload,
    connect: ConnectOptions,
  ): Promise<void>;
  /** Runs one slice of contender `index` from every process at once; one result per process. */
  run(index: number, spec: SliceSpec, control: SliceControl): Promise<SliceResult[]>;
  /** Closes every session (and ends the load processes). */
  close(): Promise<void>;
}

/** The load in this process: the fresh-key headline's path, with live progress. */
export class InProcessDriver implements LoadDriver {
  readonly clients = 1;
  readonly #sessions: ContenderSession[] = [];

  async connect(
    contenders: readonly Contender[],
    nodes: readonly NodeAddress[],
    workload: LockWorkload,
    connect: ConnectOptions,
  ): Promise<void> {
    for (const contender of contenders) {
      this.#sessions.push(await contender.connect(nodes, workload, connect));
    }
  }

  async run(index: number, spec: SliceSpec, control: SliceControl): Promise<SliceResult[]> {
    return [
      await runLoad(this.#sessions[index]!, {
        ...spec,
        seed: spec.seed * 64,
        ...(control.signal === undefined ? {} : { signal: control.signal }),
        ...(control.onProgress === undefined ? {} : { onProgress: control.onProgress }),
      }),
    ];
  }

  async close(): Promise<void> {
    await Promise.all(this.#sessions.map((session) => session.close()));
    this.#sessions.length = 0;
  }
}

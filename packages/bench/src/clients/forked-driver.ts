import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ConnectOptions, Contender, LockWorkload, NodeAddress } from '../contenders/types.js';
import type { SliceResult } from '../load.js';
import type { LoadDriver, SliceControl } from './driver.js';
import { share, type FromChild, type SliceSpec, type ToChild } from './protocol.js';

// Resolved from the package root, so it names the built child from dist/ and from src/ alike
// (the integration tests import src/ through vitest; a child needs plain JavaScript).
const CHILD = fileURLToPath(new URL('../../dist/clients/load-child.js', import.meta.url));

/** How far ahead of now the common start of a slice is put: time for every child to hear of it. */
const START_LEAD_MS = 50;

/** How long `close()` waits for a child to close its sessions and exit before SIGKILL. */
const CLOSE_GRACE_MS = 5_000;

/** One load process and its one outstanding request. */
class ChildLink {
  readonly #child: ChildProcess;
  #pending: { resolve: (message: FromChild) => void; reject: (error: Error) => void } | undefined;
  #exited: Error | undefined;
  readonly exit: Promise<void>;

  constructor(index: number) {
    // stdout ignored: the parent's stdout may carry the JSON report; stderr is shared.
    this.#child = fork(CHILD, [String(index)], {
      execArgv: [],
      serialization: 'advanced',
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    this.#child.on('message', (message: FromChild) => {
      const pending = this.#pending;
      this.#pending = undefined;
      if (message.type === 'failed') pending?.reject(new Error(message.message));
      else pending?.resolve(message);
    });
    this.exit = new Promise((resolve) => {
      this.#child.once('exit', (code, signal) => {
        this.#exited = new Error(
          `load process ${this.#child.pid ?? '?'} exited (${signal ?? `code ${code ?? '?'}`})`,
        );
        this.#pending?.reject(this.#exited);
        this.#pending = undefined;
        resolve();
      });
    });
  }

  /** Sends `message` and resolves with the answer. */
  request(message: ToChild): Promise<FromChild> {
    if (this.#exited !== undefined) return Promise.reject(this.#exited);
    return new Promise((resolve, reject) => {
      this.#pending = { resolve, reject };
      this.#child.send(message);
    });
  }

  /** Sends `message` expecting no answer. */
  tell(message: ToChild): void {
    if (this.#exited === undefined) this.#child.send(message);
  }

  get exited(): boolean {
    return this.#exited !== undefined;
  }

  /** SIGKILL to this child only (by its own handle), when it would not close. */
  kill(): void {
    if (!this.exited) this.#child.kill('SIGKILL');
  }
}

/**
 * Load from `clients` child processes (`load-child.ts`), each connecting every contender
 * itself and running its share of the in-flight pairs (`--concurrency` is the total over all
 * processes) from a common start instant; results come back as structured clones over IPC.
 */
export class ForkedDriver implements LoadDriver {
  readonly clients: number;
  readonly #links: ChildLink[];

  constructor(clients: number) {
    this.clients = clients;
    this.#links = Array.from({ length: clients }, (_, i) => new ChildLink(i));
  }

  async connect(
    contenders: readonly Contender[],
    nodes: readonly NodeAddress[],
    workload: LockWorkload,
    connect: ConnectOptions,
  ): Promise<void> {
    const message: ToChild = {
      type: 'connect',
      contenders: contenders.map((contender) => contender.name),
      nodes: nodes.map(({ id, host, port }) => ({ id, host, port })),
      workload,
      connect,
    };
    await Promise.all(this.#links.map((link) => link.request(message)));
  }

  async run(index: number, spec: SliceSpec, control: SliceControl): Promise<SliceResult[]> {
    const startAt = process.hrtime.bigint() + BigInt(START_LEAD_MS * 1e6);
    const abort = (): void => {
      for (const link of this.#links) link.tell({ type: 'abort' });
    };
    control.signal?.addEventListener('abort', abort, { once: true });
    try {
      const answers = await Promise.all(
        this.#links.map((link, i) =>
          link.request({
            type: 'run',
            contender: index,
            startAt,
            spec: {
              ...spec,
              concurrency: share(spec.concurrency, this.clients, i),
              operations:
                spec.operations === undefined ? undefined : share(spec.operations, this.clients, i),
              // Different key sequences per process, the same ones for every contender.
              seed: spec.seed * 64 + i,
            },
          }),
        ),
      );
      return answers.map((answer) => {
        if (answer.type !== 'result') throw new Error(`load process answered ${answer.type}`);
        return answer.result;
      });
    } finally {
      control.signal?.removeEventListener('abort', abort);
    }
  }

  async close(): Promise<void> {
    await Promise.all(
      this.#links.map(async (link) => {
        const grace = setTimeout(() => link.kill(), CLOSE_GRACE_MS);
        try {
          await link.request({ type: 'close' }).catch(() => undefined);
          await link.exit;
        } finally {
          clearTimeout(grace);
        }
      }),
    );
  }
}

/** A pending callback of the virtual clock; `cancel()` it through the scheduler. */
export interface Timer {
  readonly time: number;
  readonly seq: number;
  readonly run: () => void;
  cancelled: boolean;
}

/**
 * The simulator's only clock: a queue of callbacks ordered by virtual time, then by the order
 * they were scheduled. Nothing in a simulated world uses a real timer, so a world's run is
 * the same every time for the same schedule. Between two callbacks the scheduler lets the
 * promise jobs they started run, as Node does between two I/O callbacks.
 */
export class Scheduler {
  #now = 0;
  #seq = 0;
  #heap: Timer[] = [];
  #soon: (() => void)[] = [];
  #events = 0;

  /** Virtual ms since the world began. */
  get now(): number {
    return this.#now;
  }

  /** Callbacks run so far. */
  get events(): number {
    return this.#events;
  }

  /** Runs `run` at virtual `time` (not before now). */
  at(time: number, run: () => void): Timer {
    const timer: Timer = {
      time: Math.max(time, this.#now),
      seq: this.#seq++,
      run,
      cancelled: false,
    };
    this.#push(timer);
    return timer;
  }

  /** Runs `run` before any timer, once the current callback's promise jobs are done. */
  soon(run: () => void): void {
    this.#soon.push(run);
  }

  cancel(timer: Timer | undefined): void {
    if (timer !== undefined) timer.cancelled = true;
  }

  /**
   * Runs callbacks up to virtual time `until`, or until `budget` callbacks have run.
   * @returns whether callbacks remain due before `until`
   */
  async run(until: number, budget = Number.POSITIVE_INFINITY): Promise<boolean> {
    for (let ran = 0; ran < budget; ran++) {
      await (ran % FULL_EVERY === 0 ? settleAll() : settleSome());
      const soon = this.#soon.shift();
      if (soon !== undefined) {
        this.#events++;
        soon();
        continue;
      }
      let next = this.#peek();
      if (next === undefined || next.time > until) {
        await settleAll();
        if (this.#soon.length > 0) continue;
        next = this.#peek();
      }
      if (next === undefined || next.time > until) {
        this.#now = Math.max(this.#now, Math.min(until, next?.time ?? until));
        return false;
      }
      this.#pop();
      this.#now = next.time;
      this.#events++;
      next.run();
    }
    await settleAll();
    return true;
  }

  #peek(): Timer | undefined {
    while (this.#heap.length > 0 && this.#heap[0]!.cancelled) this.#pop();
    return this.#heap[0];
  }

  #push(timer: Timer): void {
    const heap = this.#heap;
    heap.push(timer);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(heap[i]!, heap[parent]!)) break;
      [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
      i = parent;
    }
  }

  #pop(): void {
    const heap = this.#heap;
    const last = heap.pop()!;
    if (heap.length === 0) return;
    heap[0] = last;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let least = i;
      if (left < heap.length && before(heap[left]!, heap[least]!)) least = left;
      if (right < heap.length && before(heap[right]!, heap[least]!)) least = right;
      if (least === i) return;
      [heap[i], heap[least]] = [heap[least]!, heap[i]!];
      i = least;
    }
  }
}

function before(a: Timer, b: Timer): boolean {
  return a.time < b.time || (a.time === b.time && a.seq < b.seq);
}

/** Lets every pending promise job run (a `setImmediate` comes after all of them). */
function settleAll(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

// A turn of the event loop per callback cost half the simulator's time (profiled: 54 % idle).
// Between callbacks, 16 promise hops let the client's continuations run (its longest chains
// settled within 16 on 60 sampled schedules: the same runs, event for event, as with a full
// turn); every 16th callback, and before time is read as finished, a full turn makes sure.
const HOPS = 16;
const FULL_EVERY = 16;

async function settleSome(): Promise<void> {
  for (let i = 0; i < HOPS; i++) await Promise.resolve();
}

/** A seeded PRNG (mulberry32): the same stream for the same seed. */
export function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

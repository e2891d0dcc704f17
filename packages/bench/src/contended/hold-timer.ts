interface Deadline {
  readonly at: number;
  readonly resolve: () => void;
}

/**
 * Waits out holds of at least their length: Node's timers count whole milliseconds of the
 * loop's cached clock, so `setTimeout(resolve, 2)` ends anywhere from 1.1 to 3 ms later
 * (measured here: mean 2.15 ms, shortest 1.13 ms), and a hold cut short would inflate the
 * grant rate against the ideal. This timer sleeps with one `setTimeout` to the earliest
 * deadline; when it wakes early, it checks `performance.now()` once per event-loop turn
 * (`setImmediate`) until the deadline instead. Polling all the time before each deadline
 * would end holds within a loop turn, but with hundreds of staggered holds some deadline is
 * always near: it kept a core busy (47–99 % CPU in a test of 1 to 32 holders), CPU the
 * measured clients and the local Redis nodes need. So a hold is ≥ its length and ends on
 * the first timer tick or loop turn after it (mean overshoot ~0.15 ms); the report carries
 * the measured mean hold.
 */
export class HoldTimer {
  // A binary min-heap on `at`: hundreds of holders wait at once in a contended run.
  readonly #heap: Deadline[] = [];
  #timer: NodeJS.Timeout | undefined;
  /** The deadline the armed timer is for. */
  #timerAt = Number.POSITIVE_INFINITY;
  /** Polling (once per loop turn) until this instant: a timer woke before its deadline. */
  #pollUntil = Number.NEGATIVE_INFINITY;
  #polling = false;

  /** Resolves `ms` milliseconds from now, or a little later (at once for 0). */
  wait(ms: number): Promise<void> {
    if (ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.#push({ at: performance.now() + ms, resolve });
      this.#schedule();
    });
  }

  /** Arms the timer for the earliest deadline, unless one is armed as early or polling runs. */
  #schedule(): void {
    const first = this.#heap[0];
    if (this.#polling || first === undefined || first.at >= this.#timerAt) return;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timerAt = first.at;
    this.#timer = setTimeout(this.#wake, Math.max(1, Math.ceil(first.at - performance.now())));
  }

  readonly #wake = (): void => {
    this.#pollUntil = this.#timerAt;
    this.#timer = undefined;
    this.#timerAt = Number.POSITIVE_INFINITY;
    this.#poll();
  };

  readonly #poll = (): void => {
    this.#polling = false;
    const now = performance.now();
    while (this.#heap.length > 0 && this.#heap[0]!.at <= now) this.#pop().resolve();
    // Woken early: the loop turns until the deadline the timer was for, no further.
    if (now < this.#pollUntil) {
      this.#polling = true;
      setImmediate(this.#poll);
      return;
    }
    this.#schedule();
  };

  #push(deadline: Deadline): void {
    const heap = this.#heap;
    heap.push(deadline);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >>> 1;
      if (heap[parent]!.at <= heap[i]!.at) break;
      [heap[parent], heap[i]] = [heap[i]!, heap[parent]!];
      i = parent;
    }
  }

  #pop(): Deadline {
    const heap = this.#heap;
    const top = heap[0]!;
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        const right = left + 1;
        let smallest = i;
        if (left < heap.length && heap[left]!.at < heap[smallest]!.at) smallest = left;
        if (right < heap.length && heap[right]!.at < heap[smallest]!.at) smallest = right;
        if (smallest === i) break;
        [heap[smallest], heap[i]] = [heap[i]!, heap[smallest]!];
        i = smallest;
      }
    }
    return top;
  }
}

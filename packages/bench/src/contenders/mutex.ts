import type { Contender, ContenderSession, Release } from './types.js';

/** A waiter in a key's line: its grant, and its timeout timer to clear on grant. */
interface Waiter {
  readonly grant: (release: Release) => void;
  timer: NodeJS.Timeout | undefined;
}

/**
 * One FIFO mutex per key inside this process, no Redis at all: a release hands the key to the
 * next waiter in the same call, so its handoff gap is what the event loop alone costs, the
 * floor under any distributed lock's.
 */
function mutexSession(waitTimeout: number): ContenderSession {
  // A key is held while it has a line (possibly empty); it is free when it has none.
  const lines = new Map<string, Waiter[]>();
  const release = (key: string): Release => {
    let released = false;
    return () => {
      if (!released) {
        released = true;
        const line = lines.get(key)!;
        const next = line.shift();
        if (next === undefined) lines.delete(key);
        else {
          clearTimeout(next.timer);
          next.grant(release(key));
        }
      }
      return Promise.resolve();
    };
  };
  return {
    acquire(key) {
      const line = lines.get(key);
      if (line === undefined) {
        lines.set(key, []);
        return Promise.resolve(release(key));
      }
      if (waitTimeout === 0) return Promise.resolve(null);
      return new Promise((resolve) => {
        const waiter: Waiter = { grant: resolve, timer: undefined };
        waiter.timer = setTimeout(() => {
          line.splice(line.indexOf(waiter), 1);
          resolve(null);
        }, waitTimeout);
        line.push(waiter);
      });
    },
    close: () => Promise.resolve(),
  };
}

/** The physical limit of a handoff: an in-process mutex per key (contended runs, one process). */
export const mutex: Contender = {
  name: 'mutex',
  description: 'an in-process FIFO mutex per key, no Redis: the floor of a handoff in one process',
  minNodes: 1,
  nodesUsed: 0,
  contendedOnly: true,
  singleProcess: true,
  connect: (_nodes, workload) => Promise.resolve(mutexSession(workload.waitTimeout ?? 0)),
};

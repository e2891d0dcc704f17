import { describe, expect, it } from 'vitest';
import { defaultRuntime, type Runtime } from '../src/internal.js';
import { Turns, type TurnHolder, type Waiter } from '../src/turns.js';

/** A runtime whose clock and timers the test moves by hand. */
function manualRuntime(): Runtime & { advance(ms: number): void } {
  let now = 0;
  const timers = new Map<number, { at: number; callback: () => void }>();
  let next = 0;
  return {
    ...defaultRuntime(),
    now: () => now,
    setTimeout: (callback, ms) => {
      timers.set(++next, { at: now + ms, callback });
      return next;
    },
    clearTimeout: (handle) => void timers.delete(handle as number),
    advance(ms) {
      now += ms;
      for (const [id, timer] of [...timers].sort((a, b) => a[1].at - b[1].at)) {
        if (timer.at > now) continue;
        timers.delete(id);
        timer.callback();
      }
    },
  };
}

/** A waiter that records when its turn came, and whether as a handoff. */
function waiter(log: string[], name: string): Waiter {
  return { start: (handoff) => void log.push(handoff ? `${name}:handoff` : name) };
}

/** A lock as the line sees it: valid until `deadline`, or until `lost` is set. */
function holder(rt: Runtime, deadline: number): TurnHolder & { deadline: number; lost: boolean } {
  return {
    deadline,
    lost: false,
    isValid() {
      return !this.lost && rt.now() < this.deadline;
    },
  };
}

/** A line for `k` whose turn a lock valid until `deadline` holds, with `b` waiting behind it. */
function lineBehindLock(deadline: number) {
  const rt = manualRuntime();
  const turns = new Turns(rt);
  const log: string[] = [];
  const a = waiter(log, 'a');
  turns.take('k', a);
  const lock = holder(rt, deadline);
  turns.won('k', a, lock);
  turns.join('k', waiter(log, 'b'));
  return { rt, turns, log, lock };
}

describe('local lines (turns.ts)', () => {
  it('gives the turn at once when nobody in the process has the key, and queues the others in order', () => {
    const rt = manualRuntime();
    const turns = new Turns(rt);
    const log: string[] = [];
    const a = waiter(log, 'a');
    expect(turns.take('k', a)).toBe(true);
    expect(turns.take('other', waiter(log, 'x'))).toBe(true);
    const b = waiter(log, 'b');
    const c = waiter(log, 'c');
    expect(turns.take('k', b)).toBe(false);
    turns.join('k', b);
    turns.join('k', c);
    turns.pass('k', a, true);
    expect(log).toEqual(['b:handoff']);
    turns.pass('k', b, false);
    expect(log).toEqual(['b:handoff', 'c']);
    turns.pass('k', c, false);
    // The line is gone: the next acquire takes the turn at once.
    expect(turns.take('k', waiter(log, 'd'))).toBe(true);
  });

  it('ignores a stale owner, and skips a waiter that left', () => {
    const rt = manualRuntime();
    const turns = new Turns(rt);
    const log: string[] = [];
    const a = waiter(log, 'a');
    const b = waiter(log, 'b');
    const c = waiter(log, 'c');
    turns.take('k', a);
    const leaveB = turns.join('k', b);
    turns.join('k', c);
    expect(leaveB()).toBe(true);
    expect(leaveB()).toBe(false);
    turns.pass('k', b, false);
    expect(log).toEqual([]);
    turns.pass('k', a, false);
    expect(log).toEqual(['c']);
  });

  it('passes the turn of a lock nobody releases once its validity has run out, not before', () => {
    const { rt, log, lock } = lineBehindLock(100);
    rt.advance(60);
    // Extended meanwhile: the check at the old deadline looks again at the new one.
    lock.deadline = 250;
    rt.advance(60);
    expect(log).toEqual([]);
    rt.advance(200);
    expect(log).toEqual(['b']);
  });

  it('passes the turn of a lock found lost at its next check, and only once', () => {
    const { rt, turns, log, lock } = lineBehindLock(100);
    lock.lost = true;
    turns.pass('k', lock, false);
    rt.advance(200);
    expect(log).toEqual(['b']);
  });
});

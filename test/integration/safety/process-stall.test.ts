import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { LinkProxy } from '../../harness/index.js';
import { lockKey, sleep, useCluster, type Cluster } from './helpers.js';

// docs/safety.md hazard 1 seen from a whole process: SIGSTOP (a GC pause, a frozen VM) stops
// the client between its request and its look at the reply, or between the grant and the
// holder's first look at its lock. Meanwhile another client is granted the key. Found by a
// chaos soak (README, chaos checker): a grant recorded right after a child process woke, with
// a fence lower than the one granted while it was stopped.

const c: Cluster = useCluster();
const CHILD = fileURLToPath(new URL('./stall-child.mjs', import.meta.url));
const TTL = 500;
// The other client's lease is long, so that it still holds when the child has spent its retries.
const OTHER_TTL = 3_000;
const OPTIONS = {
  maxTtl: OTHER_TTL,
  defaultTtl: TTL,
  healthCheckInterval: 50,
  failureThreshold: 2,
  restartQuarantine: false,
};
const STALL = 1_500;

interface Result {
  readonly type: 'result';
  readonly ok: boolean;
  readonly code?: string;
  readonly fence?: string;
  readonly valid?: boolean;
  readonly remaining?: number;
}

const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});

/** Forks the child client on `port`; resolves once it has been granted a first key. */
async function startChild(port: number, commandTimeout: number): Promise<ChildProcess> {
  const child = fork(CHILD, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  children.push(child);
  await new Promise<void>((resolve, reject) => {
    child.on('message', (message: { type: string; message?: string }) => {
      if (message.type === 'started') resolve();
      if (message.type === 'error') reject(new Error(message.message));
    });
    child.send({
      type: 'start',
      nodes: [{ id: 'n0', host: '127.0.0.1', port }],
      options: { ...OPTIONS, commandTimeout },
      warmKey: 'warm',
    });
  });
  return child;
}

/** Whether the kernel has `pid` stopped (state T in /proc/<pid>/stat). */
function isStopped(pid: number): boolean {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')')).startsWith(') T ');
}

const next = (child: ChildProcess, type: string): Promise<Record<string, unknown>> =>
  new Promise((resolve) => {
    const listener = (message: Record<string, unknown>): void => {
      if (message.type !== type) return;
      child.off('message', listener);
      resolve(message);
    };
    child.on('message', listener);
  });

/**
 * The child asks for `key`; once its request is out, it is stopped for {@link STALL} ms while
 * a client of this process is granted the key (after the child's lease ran out on the node).
 */
async function stallDuringAcquire(
  stopAfterGrant: boolean,
  replyDelay: number,
  commandTimeout: number,
): Promise<{ result: Result; otherFence: bigint; heldNow: string | null }> {
  const [node] = await c.start(1);
  const proxy = await LinkProxy.start({ port: node!.port });
  try {
    const other = c.client({ nodes: [{ id: 'n0', port: node!.port }], ...OPTIONS });
    const child = await startChild(proxy.port, commandTimeout);
    // Replies reach the child late, so that the stop comes before it reads its reply.
    if (replyDelay > 0) proxy.set('down', 'delay', replyDelay);
    const sent = next(child, 'sent');
    const done = next(child, 'result');
    child.send({
      type: 'acquire',
      key: 'k',
      ttl: TTL,
      retry: { attempts: 3, delay: 50 },
      stopAfterGrant,
    });
    if (stopAfterGrant) {
      // The child stops itself right after the grant; wait until the kernel has it stopped.
      while (!isStopped(child.pid!)) await sleep(1);
    } else {
      await sent;
      child.kill('SIGSTOP');
      // The reply already on its way arrives during the stop; the child's retries get theirs
      // at once.
      proxy.set('down', 'pass');
    }
    const stoppedAt = performance.now();
    // Late enough that the child's lease has run out on the node.
    await sleep(TTL + 200);
    const theirs = await other.acquire('k', { ttl: OTHER_TTL, retry: { attempts: 20, delay: 20 } });
    await sleep(Math.max(0, STALL - (performance.now() - stoppedAt)));
    child.kill('SIGCONT');
    const result = (await done) as unknown as Result;
    const heldNow = await c.raw(node!).get(lockKey('k'));
    await theirs.release();
    return {
      result,
      otherFence: theirs.fence,
      heldNow: heldNow === theirs.token ? 'other' : heldNow,
    };
  } finally {
    await proxy.close();
  }
}

describe('a client process stopped (SIGSTOP) around its acquire', () => {
  it('before it reads the grant: the late grant is not believed and no lock is returned while another holds the key', async () => {
    const { result, heldNow } = await stallDuringAcquire(false, 200, 5_000);
    expect(result).toMatchObject({ ok: false, code: 'ERR_LOCK_TIMEOUT' });
    expect(heldNow).toBe('other');
  });

  it('also when its command timeout fires on waking, before the reply is read', async () => {
    const { result, heldNow } = await stallDuringAcquire(false, 200, 100);
    expect(result.ok).toBe(false);
    expect(heldNow).toBe('other');
  });

  it('after the grant, before the holder looks: the lock says it is no longer valid, and its fence is below the one granted meanwhile', async () => {
    const { result, otherFence } = await stallDuringAcquire(true, 0, 5_000);
    expect(result.ok).toBe(true);
    expect(result.valid).toBe(false);
    expect(result.remaining!).toBeLessThan(0);
    expect(BigInt(result.fence!)).toBeLessThan(otherFence);
  });
});

import { Command } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { encodeScriptCall } from '../src/batch-command.js';
import { backoff } from '../src/acquire-options.js';
import {
  ClientClosedError,
  InvalidArgumentError,
  LockAbortedError,
  LockLostError,
  LockTimeoutError,
  NodeUnavailableError,
  ShardlockError,
} from '../src/index.js';
import { TOKEN_LENGTH } from '../src/internal.js';
import { TokenSource } from '../src/token.js';

describe('tokens', () => {
  it('are 22 base64url characters (128 bits) and never repeat', () => {
    const source = new TokenSource();
    const seen = new Set<string>();
    for (let i = 0; i < 5000; i++) {
      const token = source.next();
      expect(token).toMatch(/^[A-Za-z0-9_-]{22}$/);
      seen.add(token);
    }
    expect(seen.size).toBe(5000);
    expect(TOKEN_LENGTH).toBe(22);
  });

  it('differ between two sources', () => {
    expect(new TokenSource().next()).not.toBe(new TokenSource().next());
  });
});

describe('backoff', () => {
  const retry = { attempts: 10, delay: 50, maxDelay: 400, jitter: 20 };
  it('doubles per attempt up to maxDelay, plus jitter', () => {
    for (const [attempt, base] of [
      [1, 50],
      [2, 100],
      [3, 200],
      [4, 400],
      [9, 400],
    ] as const) {
      const delay = backoff(retry, attempt, 10_000);
      expect(delay).toBeGreaterThanOrEqual(base);
      expect(delay).toBeLessThanOrEqual(base + 20);
    }
  });
  it('never waits much past the holder’s remaining lease', () => {
    expect(backoff(retry, 4, 30)).toBeLessThanOrEqual(50);
  });
});

describe('errors', () => {
  it.each([
    [InvalidArgumentError, 'ERR_INVALID_ARGUMENT'],
    [LockTimeoutError, 'ERR_LOCK_TIMEOUT'],
    [LockLostError, 'ERR_LOCK_LOST'],
    [LockAbortedError, 'ERR_LOCK_ABORTED'],
    [NodeUnavailableError, 'ERR_NODE_UNAVAILABLE'],
    [ClientClosedError, 'ERR_CLIENT_CLOSED'],
  ] as const)('%o has a stable code, its class name, context and cause', (Class, code) => {
    const cause = new Error('root');
    const error = new Class('message', { key: 'k', nodeId: 'n', attempts: 3, cause });
    expect(error).toBeInstanceOf(ShardlockError);
    expect(error).toBeInstanceOf(Error);
    expect(error.code).toBe(code);
    expect(error.name).toBe(Class.name);
    expect(error.key).toBe('k');
    expect(error.nodeId).toBe('n');
    expect(error.attempts).toBe(3);
    expect(error.cause).toBe(cause);
  });
});

describe('the batch call’s RESP', () => {
  it('is byte for byte what ioredis writes for the same EVALSHA, for keys of any script', () => {
    const sha = 'a'.repeat(40);
    const keys = [
      'shardlock:fence',
      'shardlock:lock:clé',
      'shardlock:lock:😀鍵',
      `k:${'x'.repeat(200)}`,
    ];
    const args = ['aAbCdEfGhIjKlMnOpQrStUv1000', 'r0123456789012345678901', `f${10 ** 15}`];
    const ours = encodeScriptCall(`$7\r\nevalsha\r\n$40\r\n${sha}\r\n`, keys, args);
    const theirs = new Command('evalsha', [sha, keys.length, ...keys, ...args]).toWritable({});
    expect(Buffer.from(ours)).toEqual(Buffer.from(theirs as string));
  });
});

import { describe, expect, it } from 'vitest';
import {
  DEFAULT_CLIENT_OPTIONS,
  InvalidArgumentError,
  minTtlOf,
  resolveClientOptions,
  type LockClientOptions,
} from '../src/index.js';

const nodes = [
  { id: 'a', port: 7001 },
  { id: 'b', host: '10.0.0.2', port: 6379 },
  { id: 'c', url: 'redis://user:pw@10.0.0.3:6380/2' },
];
// Casts stand for callers without TypeScript, who can pass anything.
const loose = (value: unknown): LockClientOptions => value as LockClientOptions;

function rejects(options: unknown, message: RegExp): void {
  let caught: unknown;
  try {
    resolveClientOptions(loose(options));
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(InvalidArgumentError);
  expect((caught as InvalidArgumentError).code).toBe('ERR_INVALID_ARGUMENT');
  expect((caught as Error).message).toMatch(message);
}

describe('client options', () => {
  it('applies the documented defaults', () => {
    const resolved = resolveClientOptions({ nodes });
    expect(resolved.defaultTtl).toBe(DEFAULT_CLIENT_OPTIONS.defaultTtl);
    expect(resolved.maxTtl).toBe(60_000);
    expect(resolved.driftFactor).toBe(0.01);
    expect(resolved.retry).toEqual({ attempts: 10, delay: 50, maxDelay: 1000, jitter: 50 });
    expect(resolved.keyPrefix).toBe('shardlock:');
    expect(resolved.nodes.map((n) => n.address)).toEqual([
      '127.0.0.1:7001',
      '10.0.0.2:6379',
      '10.0.0.3:6380',
    ]);
    expect(Object.isFrozen(resolved)).toBe(true);
  });

  it('lowers defaultTtl to maxTtl when only maxTtl is given', () => {
    expect(resolveClientOptions({ nodes, maxTtl: 2_000 }).defaultTtl).toBe(2_000);
  });

  it('rejects an unknown option', () =>
    rejects({ nodes, replica: 3 }, /unknown LockClient option "replica"/));
  it.each([0, 2, 4, 6, 1.5, '3', Number.NaN])('rejects replicas %j', (replicas) =>
    rejects({ nodes, replicas }, /replicas must be 1, 3 or 5/),
  );
  it('rejects options that are not an object', () => rejects(null, /must be an object/));
  it.each([0, -1, 1.5, 2, Number.NaN, Number.POSITIVE_INFINITY, 86_400_001])(
    'rejects maxTtl %j',
    (maxTtl) => rejects({ nodes, maxTtl }, /maxTtl must be an integer from 3 to 86400000 ms/),
  );
  it('rejects a defaultTtl above maxTtl', () =>
    rejects(
      { nodes, maxTtl: 1000, defaultTtl: 1001 },
      /defaultTtl must be an integer from 3 to 1000/,
    ));
  // A lease of ttl ms is believed for ttl − ttl × driftFactor − 2 ms: 2 ms leaves none.
  it('takes the shortest TTL from driftFactor', () => {
    expect(minTtlOf(0)).toBe(3);
    expect(minTtlOf(0.01)).toBe(3);
    expect(minTtlOf(0.5)).toBe(5);
    for (const driftFactor of [0, 0.01, 0.2, 0.5]) {
      const min = minTtlOf(driftFactor);
      expect(min - min * driftFactor - 2).toBeGreaterThan(0);
      expect(min - 1 - (min - 1) * driftFactor - 2).toBeLessThanOrEqual(0);
    }
    rejects({ nodes, driftFactor: 0.5, maxTtl: 4 }, /maxTtl must be an integer from 5/);
  });
  it.each([-0.1, 0.6, Number.NaN])('rejects driftFactor %j', (driftFactor) =>
    rejects({ nodes, driftFactor }, /driftFactor/),
  );
  it('rejects an unknown retry field', () =>
    rejects({ nodes, retry: { count: 3 } }, /unknown retry option "count"/));
  it('rejects negative retry attempts', () =>
    rejects({ nodes, retry: { attempts: -1 } }, /retry.attempts/));
  it('rejects a negative waitTimeout', () => rejects({ nodes, waitTimeout: -5 }, /waitTimeout/));
  it('rejects a bad commandTimeout', () => rejects({ nodes, commandTimeout: 0 }, /commandTimeout/));
  it('applies the membership defaults, the handoff window following maxTtl', () => {
    const resolved = resolveClientOptions({ nodes, maxTtl: 5_000 });
    expect(resolved.healthCheckInterval).toBe(1_000);
    expect(resolved.failureThreshold).toBe(2);
    expect(resolved.handoffWindow).toBe(10_000);
    expect(resolved.restartQuarantine).toBe(true);
  });
  it.each([0, 9, 1.5, Number.NaN])('rejects healthCheckInterval %j', (healthCheckInterval) =>
    rejects({ nodes, healthCheckInterval }, /healthCheckInterval/),
  );
  it.each([0, -1, 2.5])('rejects failureThreshold %j', (failureThreshold) =>
    rejects({ nodes, failureThreshold }, /failureThreshold/),
  );
  it('raises the default handoff window to cover quarantine and detection lag', () => {
    const resolved = resolveClientOptions({ nodes, maxTtl: 1_000, healthCheckInterval: 2_000 });
    expect(resolved.handoffWindow).toBe(1_000 + 10 + 2 + 2 * 2_000 + 1_000);
  });
  it('rejects a handoffWindow shorter than quarantine plus detection lag', () => {
    rejects({ nodes, maxTtl: 5_000, handoffWindow: 4_999 }, /handoffWindow.*from 8052 /);
    rejects({ nodes, maxTtl: 5_000, handoffWindow: 8_051 }, /at least maxTtl \+ drift/);
    expect(resolveClientOptions({ nodes, maxTtl: 5_000, handoffWindow: 8_052 }).handoffWindow).toBe(
      8_052,
    );
  });
  it('rejects a restartQuarantine that is not a boolean', () =>
    rejects({ nodes, restartQuarantine: 'no' }, /restartQuarantine must be a boolean/));
  it('rejects a keyPrefix that is not a string', () =>
    rejects({ nodes, keyPrefix: 5 }, /keyPrefix/));
  it('rejects redis options that are not an object', () =>
    rejects({ nodes, redis: 'redis://x' }, /redis must be an ioredis options object/));
});

describe('node specs', () => {
  it('rejects a missing node list', () => rejects({}, /nodes must be a non-empty array/));
  it('rejects an empty node list', () => rejects({ nodes: [] }, /nodes must be a non-empty array/));
  it('rejects duplicate ids', () =>
    rejects(
      {
        nodes: [
          { id: 'a', port: 1 },
          { id: 'a', port: 2 },
        ],
      },
      /node id "a" appears more than once/,
    ));
  it('rejects two ids on one address', () =>
    rejects(
      {
        nodes: [
          { id: 'a', port: 7001 },
          { id: 'b', url: 'redis://127.0.0.1:7001' },
        ],
      },
      /same address 127.0.0.1:7001/,
    ));
  it('rejects an empty id', () =>
    rejects({ nodes: [{ id: '', port: 1 }] }, /node id must be a string/));
  it('rejects a node with neither url nor port', () =>
    rejects({ nodes: [{ id: 'a' }] }, /needs a url or a port/));
  it('rejects a node with both url and port', () =>
    rejects({ nodes: [{ id: 'a', url: 'redis://h:1', port: 1 }] }, /both url and host\/port/));
  it.each([0, 65_536, 1.5, '6379'])('rejects port %j', (port) =>
    rejects({ nodes: [{ id: 'a', port }] }, /port of node "a"/),
  );
  it.each(['not a url', 'http://h:1', 42])('rejects url %j', (url) =>
    rejects({ nodes: [{ id: 'a', url }] }, /url of node "a"/),
  );
  it.each([0, -1, Number.NaN, Number.POSITIVE_INFINITY, 1001])('rejects weight %j', (weight) =>
    rejects({ nodes: [{ id: 'a', port: 1, weight }] }, /weight of node "a"/),
  );
  it('rejects an unknown node field', () =>
    rejects({ nodes: [{ id: 'a', port: 1, db: 2 }] }, /unknown node option "db"/));
  it('accepts rediss URLs and IPv6 hosts', () => {
    const [tls, v6] = resolveClientOptions({
      nodes: [
        { id: 't', url: 'rediss://h.example:6390' },
        { id: 'v', url: 'redis://[::1]:7000' },
      ],
    }).nodes;
    expect(tls?.address).toBe('h.example:6390');
    expect(v6?.address).toBe('::1:7000');
  });
});

import { describe, expect, it } from 'vitest';
import { parseBenchArgs, UsageError } from '../src/args.js';

function usage(argv: string[], message: RegExp): void {
  let caught: unknown;
  try {
    parseBenchArgs(argv);
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(UsageError);
  expect((caught as Error).message).toMatch(message);
}

describe('bench flags', () => {
  it('defaults to an embedded 5-node cluster, 256 in flight, fresh keys, every contender', () => {
    const args = parseBenchArgs([]);
    expect(args.nodes).toBeUndefined();
    expect(args.nodeCounts).toEqual([5]);
    expect(args.concurrency).toBe(256);
    expect(args.keySpace).toBeUndefined();
    expect(args.durationMs).toBe(5_000);
    expect(args.ttlMs).toBe(10_000);
    expect(args.contenders).toEqual([
      'shardlock',
      'shardlock-q3',
      'raw',
      'hashring',
      'redlock',
      'redlock-3',
      'semaphore',
      'redlock-universal',
    ]);
  });

  it('parses a workload', () => {
    const args = parseBenchArgs([
      '--duration',
      '0.5',
      '--operations',
      '1000',
      '--concurrency',
      '8',
      '--ttl',
      '500',
      '--hold',
      '2',
      '--retries',
      '3',
      '--retry-delay',
      '5',
      '--contenders',
      'shardlock,raw',
    ]);
    expect(args).toMatchObject({
      durationMs: 500,
      operations: 1000,
      concurrency: 8,
      keySpace: undefined,
      ttlMs: 500,
      holdMs: 2,
      retries: 3,
      retryDelayMs: 5,
      contenders: ['shardlock', 'raw'],
    });
  });

  it('parses several cluster sizes, ascending', () => {
    expect(parseBenchArgs(['--nodes-count', '5,1,3']).nodeCounts).toEqual([1, 3, 5]);
  });

  it('leaves out of the default set a contender that needs more nodes than the run has', () => {
    // A sweep runs it at the sizes it fits (run.ts skips the others); not on 2 nodes at all.
    expect(parseBenchArgs(['--nodes-count', '1,3']).contenders).toContain('redlock-3');
    expect(parseBenchArgs(['--nodes-count', '1,2']).contenders).not.toContain('redlock-3');
  });

  it('parses external nodes with credentials and TLS, starting nothing', () => {
    const args = parseBenchArgs(
      [
        '--nodes',
        '10.1.2.3:6379,[::1]:7000',
        '--username',
        'u',
        '--tls',
        '--tls-servername',
        'redis.internal',
      ],
      { SHARDLOCK_PASSWORD: 'from-env' },
    );
    expect(args.nodes).toEqual([
      { id: 'node-0', host: '10.1.2.3', port: 6379 },
      { id: 'node-1', host: '::1', port: 7000 },
    ]);
    expect(args.nodeCounts).toEqual([2]);
    expect(args).toMatchObject({
      username: 'u',
      password: 'from-env',
      tls: true,
      tlsServername: 'redis.internal',
    });
  });

  it('rejects an unknown flag', () => usage(['--node', 'x'], /Unknown option '--node'/));
  it('rejects a stray word', () => usage(['now'], /Unexpected argument 'now'/));
  it('rejects a malformed node address', () => usage(['--nodes', 'localhost'], /not host:port/));
  it('rejects a port out of range', () => usage(['--nodes', 'h:70000'], /not host:port/));
  it('rejects a node listed twice', () => usage(['--nodes', 'h:1,h:1'], /lists h:1 twice/));
  it('rejects --nodes with --nodes-count', () =>
    usage(['--nodes', 'h:1', '--nodes-count', '3'], /not both/));
  it('rejects credentials without --nodes', () =>
    usage(['--password', 'pw'], /--password applies to --nodes only/));
  it.each([
    ['--concurrency', '0'],
    ['--concurrency', '1.5'],
    ['--concurrency', 'many'],
    ['--ttl', '=-1'],
    ['--nodes-count', '0'],
    ['--nodes-count', '65'],
    ['--keys', '0'],
    ['--operations', '0'],
  ])('rejects %s %s', (flag, value) =>
    usage([flag, value], new RegExp(`${flag} takes a whole number`)),
  );
  it.each(['0', '-1', 'soon', '99999'])('rejects --duration %s', (value) =>
    usage([`--duration=${value}`], /--duration takes a number/),
  );
  it('rejects an unknown contender', () =>
    usage(['--contenders', 'shardlock,zookeeper'], /unknown contender "zookeeper"/));
  it('rejects a contender listed twice', () => usage(['--contenders', 'raw,raw'], /twice/));
  it('rejects redlock-3 on fewer than three nodes', () =>
    usage(['--nodes-count', '2', '--contenders', 'redlock-3'], /redlock-3 needs at least 3 nodes/));
  it.each(['0', '2', '7', 'three', '', '3,3'])('rejects --replicas %s', (value) =>
    usage(['--replicas', value], /--replicas (takes 1, 3 or 5|lists a count twice)/),
  );
  it('rejects shardlock modes given both ways', () =>
    usage(['--contenders', 'shardlock,raw', '--replicas', '3'], /not both/));
  it('rejects a quorum of 5 on fewer than five nodes', () =>
    usage(['--nodes-count', '3', '--replicas', '5'], /shardlock-q5 needs at least 5 nodes/));
});

describe('contended flags', () => {
  it('parses a contended workload from several processes', () => {
    const args = parseBenchArgs([
      '--keys',
      '64',
      '--zipf',
      '1.1',
      '--hold',
      '2',
      '--wait-timeout',
      '5000',
      '--concurrency',
      '512',
      '--clients',
      '2',
    ]);
    expect(args).toMatchObject({
      keySpace: 64,
      zipf: 1.1,
      holdMs: 2,
      waitTimeoutMs: 5_000,
      concurrency: 512,
      clients: 2,
    });
  });

  it('defaults to one client, uniform keys and a 10 s wait on hot keys, no wait on fresh keys', () => {
    expect(parseBenchArgs(['--keys', '8'])).toMatchObject({
      clients: 1,
      zipf: 0,
      waitTimeoutMs: 10_000,
    });
    expect(parseBenchArgs([])).toMatchObject({ clients: 1, zipf: 0, waitTimeoutMs: undefined });
  });

  it('runs the contended contenders on hot keys, the mutex only from one process', () => {
    expect(parseBenchArgs(['--keys', '8']).contenders).toEqual([
      'shardlock',
      'shardlock-poll',
      'shardlock-fair',
      'semaphore',
      'redlock',
      'redlock-universal',
      'mutex',
    ]);
    expect(parseBenchArgs(['--keys', '8', '--clients', '2']).contenders).not.toContain('mutex');
    expect(parseBenchArgs([]).contenders).not.toContain('mutex');
  });

  it('takes --clients 1 with a --concurrency of 1', () => {
    expect(parseBenchArgs(['--concurrency', '1']).clients).toBe(1);
  });

  it.each([
    ['--clients', '0'],
    ['--clients', '65'],
    ['--clients', 'two'],
    ['--wait-timeout', '-1'],
    ['--wait-timeout', '1.5'],
  ])('rejects %s %s', (flag, value) =>
    usage(['--keys', '4', `${flag}=${value}`], new RegExp(`${flag} takes a whole number`)),
  );
  it.each(['-1', '11', 'steep', ''])('rejects --zipf %s', (value) =>
    usage(['--keys', '4', `--zipf=${value}`], /--zipf takes a number from 0 to 10/),
  );
  it('rejects --zipf without --keys', () =>
    usage(['--zipf', '1'], /--zipf applies to --keys only/));
  it('rejects --wait-timeout without --keys', () =>
    usage(['--wait-timeout', '100'], /--wait-timeout applies to --keys only/));
  it('rejects --retries with --keys: a contended acquire waits by time', () =>
    usage(['--keys', '4', '--retries', '3'], /--retries applies to fresh keys/));
  it('rejects a Zipf skew over more keys than its table takes', () =>
    usage(['--keys', '1000001', '--zipf', '1'], /--zipf takes at most 1000000 --keys/));
  it('rejects more clients than pairs in flight', () =>
    usage(
      ['--clients', '4', '--concurrency', '3'],
      /--clients 4 needs --concurrency of at least 4/,
    ));
  it('rejects the mutex on fresh keys and from several processes', () => {
    usage(['--contenders', 'mutex'], /mutex runs on hot keys only/);
    usage(
      ['--keys', '4', '--clients', '2', '--contenders', 'shardlock,mutex'],
      /mutex locks within one process only/,
    );
  });
});

describe('--replicas', () => {
  it('picks the shardlock modes of the default run', () => {
    expect(parseBenchArgs(['--replicas', '3,5']).contenders).toEqual([
      'shardlock-q3',
      'shardlock-q5',
      'raw',
      'hashring',
      'redlock',
      'redlock-3',
      'semaphore',
      'redlock-universal',
    ]);
  });

  it('adds modes to named contenders, ours first', () => {
    expect(
      parseBenchArgs(['--contenders', 'raw,redlock-3', '--replicas', '1,5']).contenders,
    ).toEqual(['shardlock', 'shardlock-q5', 'raw', 'redlock-3']);
  });

  it('keeps a quorum for the sizes of a sweep it fits, and refuses it when none does', () => {
    expect(parseBenchArgs(['--nodes-count', '1,5']).contenders).toContain('shardlock-q3');
    expect(parseBenchArgs(['--nodes-count', '1,2']).contenders).not.toContain('shardlock-q3');
    usage(
      ['--nodes-count', '1,3', '--replicas', '5'],
      /shardlock-q5 needs at least 5 nodes; the run has 3/,
    );
  });
});

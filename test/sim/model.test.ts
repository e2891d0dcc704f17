import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  OP_ACQUIRE,
  OP_FAIR,
  OP_FORGET,
  OP_MARK,
  OP_POLITE,
  OP_QUORUM,
  OP_QUORUM_MARK,
  OP_WAIT,
  TOKEN_LENGTH,
  opArg,
  quorumArg,
} from '@shardlock/core/internal';
import { RedisNode, stopAllNodes } from '../harness/index.js';
import { inspect } from '../support/redis.js';
import type { KeyEvent } from './model.js';
import {
  BASE,
  type Call,
  Differ,
  FENCE,
  type Op,
  PROBE,
  RECORD,
  Random,
  acquire,
  batch,
  extend,
  fence,
  hello,
  record,
  release,
} from './model-differ.js';

// The script model (model.ts) against a real redis-server (model-differ.ts compares): random
// sequences, then the corners they rarely reach, expiry, and users whose ACL refuses commands.

const LOCKS = ['k0', 'k1', 'k2', 'k3'];
/** Every acquire op code, and those that mark a waiter. */
const ACQUIRES = [OP_ACQUIRE, OP_MARK, OP_WAIT, OP_POLITE, OP_FAIR];
const MARKS = [OP_MARK, OP_WAIT, OP_POLITE, OP_FAIR, OP_QUORUM_MARK];
const RUNS = ['a'.repeat(40), 'b1'.repeat(20), 'run-1'];
const SETTINGS = ['maxTtl=60000;driftFactor=0.01;vnodes=4096', 'maxTtl=1000;é=ü'];

// Malformed ops: no TTL, bad TTLs, a bad floor (granted, then the script aborts), an unknown
// op (it releases), an extend to 0 ms (it deletes), an extend without TTL (aborts if held).
const ODD: ((token: string) => string)[] = [
  (t) => `a${t}`,
  (t) => `a${t}-5`,
  (t) => `a${t}007`,
  (t) => `a${t}100:x`,
  (t) => `x${t}`,
  (t) => `e${t}0`,
  (t) => `e${t}`,
  () => 'fnope',
  () => '',
  // Quorum acquires: no `=`, no proposal, a bad proposal, a bad TTL.
  (t) => `q${t}100`,
  (t) => `q${t}100=`,
  (t) => `q${t}100=x`,
  (t) => `q${t}=5`,
  (t) => `q${t}-5=5`,
];

function randomOp(g: Random, tokens: readonly string[], counter: number): Op {
  const key = g.chance(0.05) ? FENCE : g.pick(LOCKS);
  const token = g.pick(tokens);
  const ttl = g.pick([10_000, 30_000, 60_000]);
  const r = g.next();
  if (r < 0.3) {
    const floor = g.chance(0.3) ? g.pick([1, counter - 5, counter + g.int(300)]) : 0;
    return [key, opArg(g.pick(ACQUIRES), token, ttl, floor)];
  }
  if (r < 0.45) {
    const proposal = g.pick([1, counter, counter + g.int(300)]);
    return [key, quorumArg(token, ttl, proposal, g.pick([OP_QUORUM, OP_QUORUM_MARK]))];
  }
  if (r < 0.6) return extend(key, token, ttl);
  if (r < 0.8) return release(key, token);
  if (r < 0.85) return fence(g.pick([0, 7, counter + g.int(300)]));
  if (r < 0.9) return [key, opArg(OP_FORGET, token, 0, 0)];
  return [key, g.pick(ODD)(token)];
}

function randomCall(g: Random, tokens: readonly string[], counter: number): Call {
  const r = g.next();
  if (r < 0.1) return hello(RECORD, g.chance(0.2) ? g.pick(LOCKS) : PROBE);
  if (r < 0.25) {
    const args = [g.pick(SETTINGS), g.pick(['n1', 'n2'])];
    if (g.chance(0.3)) args.push('', '0', 'n');
    else args.push(g.pick(RUNS), g.pick(['-1000', '0', '1000', '60000']), g.pick(['n', 's']));
    for (let n = g.int(4); n > 0; n--) {
      args.push(g.pick(['m:a', 'm:b', 'm:c']), g.pick(['1:s:@now', '2:r:17', '@now/@now']));
      args.push(g.pick(['n', 's']));
    }
    // Now and then on a lock key: WRONGTYPE on a string, fields added to a hash.
    return { ...record(...args), keys: [g.chance(0.05) ? g.pick(LOCKS) : RECORD] };
  }
  const ops = Array.from({ length: 1 + g.int(6) }, () => randomOp(g, tokens, counter));
  if (g.chance(0.02)) return { ...batch(...ops), keys: [FENCE, ...ops.map((o) => o[0]), 'k9'] };
  return batch(...ops);
}

async function randomRun(d: Differ, seed: number, steps: number): Promise<void> {
  const g = new Random(seed);
  const counter = BASE + g.int(2000);
  await d.reset(counter, g.chance(0.5) ? 'k3' : undefined);
  const tokens = [g.token(), g.token(), g.token()];
  for (let step = 0; step < steps; step++) {
    const calls = Array.from({ length: 1 + g.int(3) }, () => randomCall(g, tokens, counter));
    // The model runs a step's calls at one clock reading, the server each at its own µs: two
    // waits marked in one step would be ordered there and tied here (what `F` compares).
    const marking = calls.findIndex((c) => c.args.some((a) => MARKS.includes(a.charAt(0))));
    await d.run(...(marking < 0 ? calls : [calls[marking]!]));
  }
  await d.checkState([
    ...LOCKS,
    ...LOCKS.map((k) => `${FENCE}:w:${k}`),
    FENCE,
    RECORD,
    PROBE,
    'k9',
  ]);
}

const A = 'A'.repeat(TOKEN_LENGTH);
const B = 'B'.repeat(TOKEN_LENGTH);
let main: Differ;

beforeAll(async () => {
  const node = await RedisNode.start();
  main = new Differ(inspect(node.port));
});

afterAll(async () => {
  main.conn.disconnect();
  await stopAllNodes();
});

describe('the script model agrees with redis-server', () => {
  it('on random sequences of batches, hellos and records', async () => {
    for (let seed = 1; seed <= 50; seed++) await randomRun(main, seed, 20);
  });

  it('on malformed ops, hash keys and aborted scripts (earlier writes stay)', async () => {
    const d = main;
    await d.reset(BASE, 'k4');
    await d.run(batch(acquire('k1', A), acquire('k1', A), acquire('k1', B), extend('k1', B)));
    await d.run(batch(extend('k1', A), release('k1', B), release('k1', A), acquire('k1', B)));
    const ttls = ['', '-5', '007', '+5', ' 5', '9223372036854775807', '1.5'];
    await d.run(batch(...ttls.map((ttl): Op => ['k2', `a${A}${ttl}`])));
    await d.run(batch(acquire('k2', A, 1000, BASE + 99), ['k2', `x${A}`], ['k2', '']));
    await d.run(batch(acquire('k2', A), ['k2', `e${A}0`], acquire('k0', A)));
    await d.run(batch(acquire('k2', A), ['k2', `e${A}9223372036854775807`]));
    await d.run(batch(acquire('k0', A), ['k2', `e${A}`]), batch(['k3', `a${A}100:x`]));
    await d.run(batch(['k3', `a${B}100:`]), batch(fence('x')), batch(fence('')));
    await d.run({ kind: 'batch', keys: [FENCE, 'k5', 'k6'], args: [`a${A}100`] });
    // WRONGTYPE fails its own op only; a hash fence counter aborts the script.
    await d.run(batch(acquire('k4', A), acquire('k5', B), extend('k4', A), release('k4', A)));
    await d.run(batch(['k6', `a${'é'.repeat(11)}100`], ['k6', `a${'é'.repeat(12)}100`]));
    await d.checkState(['k0', 'k1', 'k2', 'k3', 'k4', 'k5', 'k6', FENCE]);
    await d.reset(undefined, FENCE);
    await d.run(batch(fence(5)), batch(acquire('k7', A)), batch(release('k7', A)));
    await d.checkState(['k7', FENCE]);
  });

  it('on odd fence counters: strtod, %.0f rounding, integer replies', async () => {
    const d = main;
    const cases: [string | undefined, Op[]][] = [
      ['abc', [fence(3)]],
      ['abc', [acquire('k1', A)]],
      ['', [fence(3)]],
      ['inf', [fence(3), acquire('k1', A)]],
      [' 0x10 ', [fence(3), fence(20)]],
      ['0x1p4', [fence(3)]],
      ['1e3\t', [fence('1e3'), fence('0x3e9'), fence(' 1001.5 ')]],
      ['-5', [fence('-0.4'), fence('-0.6')]],
      ['2', [fence('2.5')]],
      ['2', [fence('3.5'), fence('1e400')]],
      ['5', [fence('nan'), fence('-inf')]],
      [String(2 ** 53), [fence(3), acquire('k1', A)]],
      [undefined, [fence(0), fence('0x')]],
    ];
    for (const [counter, ops] of cases) {
      await d.reset(undefined);
      if (counter !== undefined) await d.set(FENCE, counter);
      await d.run(batch(...ops));
      await d.checkState(['k1', FENCE]);
    }
    // A fresh counter grants the server's µs.
    await d.reset(undefined);
    await d.run({ ...batch(acquire('k1', A), acquire('k2', A, 100, 5)), near: true });
    await d.resync();
    await d.run(batch(fence(7)));
  });

  it('on hello and record: failures, set-if-absent, incarnations, @now', async () => {
    const d = main;
    await d.reset(BASE);
    await d.run(
      hello(RECORD, PROBE),
      hello(RECORD, PROBE),
      record(SETTINGS[0]!, 'n1', '', '0', 'n'),
    );
    await d.run(
      record(SETTINGS[1]!, 'n2', RUNS[0]!, '60000', 'n'),
      record('s', 's', RUNS[0]!, '0', 's'),
    );
    await d.run(
      record('s', 's', RUNS[1]!, '-1000', 'n', 'm:a', '1:s:@now@now', 'n', 'm:a', 'x', 's'),
    );
    await d.run(record('s', 's', RUNS[1]!, '0.0005', 's', 'm:b', '@now', 'n', 'm:b', 'y', 'n'));
    await d.run(record('s', 's', RUNS[1]!, '0', 'n'));
    await d.run(
      record('s', 's', RUNS[2]!, '0x10', 'n', 'm:c', 'pair'),
      record('s', 's', RUNS[2]!, '5', 'n'),
    );
    await d.run(record('s', 's', '', '0', 'n', 'm:d'), record('s', 's', RUNS[0]!, 'abc', 'n'));
    await d.run(record('s', 's', RUNS[0]!, '0'));
    await d.run(record('s', 's'), record(), hello(RECORD, PROBE));
    await d.run({ kind: 'record', keys: [], args: ['s', 's', '', '0'] });
    await d.set('str', 'v');
    await d.hset(PROBE, 'f', 'v');
    await d.run(hello('str', PROBE), hello(RECORD), hello(), { ...record('s'), keys: ['str'] });
    await d.run(batch(acquire('k1', A)), hello(RECORD, 'k1'), batch(acquire('k1', B)));
    await d.checkState([RECORD, PROBE, 'str', 'k1']);
    // Past 64 bytes (or 128 fields) the record is a hash table: the order is the server's.
    await d.run(
      record('s', 's', '', '0', 'n', 'm:long', 'é'.repeat(31), 'n'),
      hello(RECORD, PROBE),
    );
    expect(await d.admin.object('ENCODING', RECORD)).toBe('listpack');
    await d.run(record('s', 's', '', '0', 'n', 'm:long', 'é'.repeat(33), 's'));
    await d.run({ ...hello(RECORD, PROBE), unordered: true });
    expect(await d.admin.object('ENCODING', RECORD)).toBe('hashtable');
  });

  it('on expiry, and reports writes to lock keys as events', async () => {
    const events: KeyEvent[] = [];
    const d = new Differ(main.conn, main.conn, [], (event) => events.push(event));
    await d.reset(BASE);
    await d.run(
      batch(acquire('k1', A, 15), acquire('k2', A, 20), acquire('k3', A, 10_000)),
      batch(acquire('k1', B, 15), extend('k2', A, 25), acquire('k2', A, 30)),
      batch(['k4', `a${A}1`], acquire('k5', A), release('k5', A)),
    );
    await sleep(60);
    await d.run(batch(acquire('k1', B), extend('k2', A), acquire('k3', B), release('k4', A)));
    await d.checkState(['k1', 'k2', 'k3', 'k4', 'k5', FENCE]);
    const summary = events.map((e) => [e.kind, e.key, e.value, e.expiresAt - e.at]);
    expect(summary.slice(0, 8)).toEqual([
      ['set', 'k1', A, 15],
      ['set', 'k2', A, 20],
      ['set', 'k3', A, 10_000],
      ['extend', 'k2', A, 25],
      ['extend', 'k2', A, 30],
      ['set', 'k4', A, 1],
      ['set', 'k5', A, 30_000],
      ['delete', 'k5', A, 0],
    ]);
    expect(summary.slice(8)).toEqual([['set', 'k1', B, 30_000]]);
  });

  it.each([[['info', 'pexpire']], [['time']], [['get', 'hgetall']], [['set', 'del']]])(
    'for a user whose ACL refuses %j',
    async (deny) => {
      const user = ['--user', 'u', 'on', '>pw', '~*', '&*', '+@all', ...deny.map((c) => `-${c}`)];
      const node = await RedisNode.start({ args: user });
      const admin = inspect(node.port);
      const conn = inspect(node.port, { username: 'u', password: 'pw', enableReadyCheck: false });
      const d = new Differ(conn, admin, deny);
      await d.reset(BASE);
      await d.run(
        hello(RECORD, PROBE),
        record('s', 'n1', RUNS[0]!, '0', 'n'),
        hello(RECORD, PROBE),
      );
      await d.run(batch(acquire('k1', A), acquire('k1', A), extend('k1', A), release('k1', A)));
      for (let seed = 1; seed <= 5; seed++) await randomRun(d, 1000 * seed, 10);
      conn.disconnect();
      admin.disconnect();
      await node.stop();
    },
  );
});

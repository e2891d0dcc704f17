import { expect, it } from 'vitest';
import { SimConnection, type ClientProcess } from './connection.js';
import { Scheduler } from './scheduler.js';
import { SimServer } from './server.js';

// The simulated network must not make schedules a real one cannot: one TCP connection
// delivers its bytes in order, also when a cut held some of them, and only to the server
// process it was opened to.

/**
 * One connection to one server, ready at 10 ms; `cut(until)` holds the link both ways until
 * then. `hops` are the network hops in order (0.05 ms once they run out).
 */
async function linked(hops: number[] = []): Promise<{
  sched: Scheduler;
  server: SimServer;
  conn: SimConnection;
  cut: (until: number) => void;
}> {
  const sched = new Scheduler();
  const server = new SimServer(sched, 'n0', 7_000, 0, () => undefined);
  let cutUntil = 0;
  const process: ClientProcess = {
    guard: (run) => run,
    latency: () => hops.shift() ?? 0.05,
    held: () => Math.max(0, cutUntil - sched.now),
    connectTimeout: 1_000,
  };
  const conn = new SimConnection(sched, process, server, {
    commandTimeout: 1_000,
    reconnectEvery: 10,
    redis: {},
  });
  await sched.run(10);
  expect(conn.status).toBe('ready');
  return { sched, server, conn, cut: (until) => void (cutUntil = until) };
}

/** When each command reached `server`, as the scheduler's clock says. */
function deliveries(sched: Scheduler, server: SimServer): number[] {
  const received: number[] = [];
  const receive = server.receive.bind(server);
  server.receive = (peer, delivery) => {
    received.push(sched.now);
    receive(peer, delivery);
  };
  return received;
}

it('a command sent after a cut healed does not overtake one the cut held on the same connection', async () => {
  // The held command's hop is slow, the next one's fast: only the order of the link keeps them.
  const { sched, conn, cut } = await linked([0.05, 0.05, 4.9, 0.05]);
  const replies: string[] = [];
  cut(100);
  const held = conn.ping().then(() => replies.push('sent during the cut'));
  await sched.run(100);
  cut(0);
  const after = conn.ping().then(() => replies.push('sent after it healed'));
  await sched.run(200);
  await Promise.all([held, after]);
  expect(replies).toEqual(['sent during the cut', 'sent after it healed']);
});

// The second was found by `pnpm sim --replicas 3 --seed 803`: a grant a cut held ran after
// the release the client sent on its new connection, and stayed held for its whole TTL (a
// server that closed its side of a connection resets bytes that arrive on it later).
it.each([
  [
    'for a server process that died meanwhile never reaches its restart',
    (server: SimServer) => server.restartEmpty(),
  ],
  [
    'on a connection the server closed meanwhile never runs, also after a reconnect',
    (server: SimServer, conn: SimConnection) => server.setPolicy('allkeys-lru', conn.owner),
  ],
] as const)('a command a cut held %s', async (_name, fault) => {
  const { sched, server, conn, cut } = await linked();
  const received = deliveries(sched, server);

  cut(100);
  const held = conn.ping().catch((error: unknown) => String(error));
  await sched.run(50);
  fault(server, conn);
  await sched.run(300);
  expect(conn.status).toBe('ready');
  expect(await held).toMatch(/max retries|timed out/);
  expect(received).toEqual([]);
});

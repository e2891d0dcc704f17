import { Redis, type Command, type RedisOptions } from 'ioredis';
import type { ResolvedNodeSpec } from './node-spec.js';
import { ScriptCaller } from './batch-command.js';
import { asError } from './errors.js';
import { BATCH_SCRIPT, type BatchReply } from './scripts/batch.js';
import { HELLO_SCRIPT, RECORD_SCRIPT } from './scripts/contact.js';

/**
 * What the client needs of one connection to a node: the three scripts, PING, the eviction
 * policy, and the connection's life. ioredis provides it in production; the simulator in
 * `test/sim` provides one over simulated servers and a virtual clock.
 */
export interface Connection {
  /** `connecting`, `ready`, `reconnecting`, `end`, … (ioredis' names). */
  readonly status: string;
  /** Runs the batch script: `keys` starts with the fence counter; one `args` entry per op. */
  batch(keys: readonly string[], args: readonly string[]): Promise<BatchReply[]>;
  /** Runs the hello script (`scripts/contact.ts`). */
  hello(keys: readonly string[]): Promise<unknown[]>;
  /** Runs the record script (`scripts/contact.ts`). */
  record(keys: readonly string[], args: readonly string[]): Promise<unknown[]>;
  ping(): Promise<unknown>;
  /** The server's `maxmemory-policy`; `undefined` when the server does not say (CONFIG refused). */
  evictionPolicy(): Promise<string | undefined>;
  /** Closes after the replies of what was sent; rejects if the server does not answer. */
  quit(): Promise<unknown>;
  /** Closes at once. */
  disconnect(): void;
  on(event: 'ready' | 'close', listener: () => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
  /**
   * Opens a second connection, subscribed to `channel` (the waiters' wake-ups,
   * docs/contention.md). Absent where there is no pub/sub (the simulator): waiters poll.
   * @returns closes the subscriber
   */
  listen?(channel: string, handlers: ListenHandlers): () => void;
}

/** What a subscriber connection reports. */
export interface ListenHandlers {
  /** A message on the channel. */
  message(text: string): void;
  /** Subscribed (`true`, also again after a reconnect), or the connection dropped (`false`). */
  state(up: boolean): void;
  /** The subscription failed (a missing permission, say); the connection keeps retrying. */
  error(error: Error): void;
}

/** How the client wants its connections made. */
export interface ConnectionOptions {
  /** ms before a command fails with a timeout (it may still run on the server later). */
  readonly commandTimeout: number;
  /** Longest wait between reconnect attempts, in ms. */
  readonly reconnectEvery: number;
  /** The user's ioredis options, the client's then the node's; none of the keys the client owns. */
  readonly redis: RedisOptions;
}

/** Makes a connection to one node; it connects at once and reconnects by itself. */
export type ConnectionFactory = (spec: ResolvedNodeSpec, options: ConnectionOptions) => Connection;

interface Scripts {
  shardlockHello(numKeys: number, ...args: string[]): Promise<unknown[]>;
  shardlockRecord(numKeys: number, ...args: string[]): Promise<unknown[]>;
}

/** The production {@link ConnectionFactory}: ioredis, with the settings a lock client needs. */
export const ioredisConnection: ConnectionFactory = (spec, options) => {
  const redisOptions: RedisOptions = {
    connectionName: 'shardlock',
    ...options.redis,
    ...(spec.url === undefined ? { host: spec.host, port: spec.port } : {}),
    commandTimeout: options.commandTimeout,
    // A lock command must fail at once on a down node, never wait in a queue or be
    // replayed after a reconnect, when its answer could no longer be trusted.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    lazyConnect: false,
    // Every client must see a node return within the detection lag the handoff window
    // allows for (ioredis' own backoff grows to 2 s): reconnect at least that often.
    retryStrategy: (times: number) => Math.min(times * 50, options.reconnectEvery),
  };
  // ioredis' option types do not satisfy exactOptionalPropertyTypes; the values are its own.
  const loose = redisOptions as never;
  const redis = spec.url === undefined ? new Redis(loose) : new Redis(spec.url, loose);
  redis.defineCommand('shardlockHello', { lua: HELLO_SCRIPT });
  redis.defineCommand('shardlockRecord', { lua: RECORD_SCRIPT });
  const scripts = redis as Redis & Scripts;
  const batchScript = new ScriptCaller(BATCH_SCRIPT);
  const send = (command: Command): unknown => redis.sendCommand(command);
  return {
    get status() {
      return redis.status;
    },
    batch: (keys, args) => batchScript.call(send, keys, args) as Promise<BatchReply[]>,
    hello: (keys) => scripts.shardlockHello(keys.length, ...keys),
    record: (keys, args) => scripts.shardlockRecord(keys.length, ...keys, ...args),
    ping: () => redis.ping(),
    // Operator commands (`admin/command.ts`: inspect, SCAN, force release), never a lock's.
    call: (command: string, args: readonly (string | number)[]) => redis.call(command, ...args),
    evictionPolicy: async () => {
      try {
        const reply = await redis.config('GET', 'maxmemory-policy');
        return reply[1];
      } catch {
        // Managed servers often refuse CONFIG: the policy is then unknown, not wrong.
        return undefined;
      }
    },
    quit: () => redis.quit(),
    disconnect: () => redis.disconnect(),
    listen: (channel, handlers) => listen(spec, redisOptions, channel, handlers),
    on: (event: string, listener: (error: Error) => void) => redis.on(event, listener),
  };
};

/**
 * A subscriber connection of its own (a connection in subscribe mode can run nothing else),
 * with the lock connection's options: the same server, user, TLS and reconnects.
 */
function listen(
  spec: ResolvedNodeSpec,
  redisOptions: RedisOptions,
  channel: string,
  handlers: ListenHandlers,
): () => void {
  const loose = { ...redisOptions, connectionName: 'shardlock-wake' } as never;
  const sub = spec.url === undefined ? new Redis(loose) : new Redis(spec.url, loose);
  sub.on('message', (from: string, text: string) => {
    if (from === channel) handlers.message(text);
  });
  // Subscribe on every ready, not only the first: no command waits in an offline queue, and
  // a resubscription after a reconnect is what tells the waiters they may rely on it again.
  sub.on('ready', () => {
    sub.subscribe(channel).then(
      () => handlers.state(true),
      (error: unknown) => handlers.error(asError(error)),
    );
  });
  sub.on('close', () => handlers.state(false));
  sub.on('error', () => undefined);
  return () => sub.disconnect();
}

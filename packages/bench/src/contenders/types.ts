/** Where a node listens. */
export interface NodeAddress {
  readonly id: string;
  readonly host: string;
  readonly port: number;
}

/** Credentials and TLS for every node of a run. */
export interface ConnectOptions {
  readonly username?: string;
  readonly password?: string;
  /** TLS options for ioredis (`ca`, `servername`, `rejectUnauthorized`), when the nodes speak TLS. */
  readonly tls?: {
    readonly ca?: string | Buffer;
    readonly servername?: string;
    readonly rejectUnauthorized?: boolean;
  };
}

/** What every contender is asked to do, the same way. */
export interface LockWorkload {
  /** Lease of each lock, in ms. */
  readonly ttl: number;
  /** Retries after a failed attempt (each contender's own retry mechanism). */
  readonly retries: number;
  /** Delay between retries, in ms (each contender adds its own jitter of up to this much). */
  readonly retryDelay: number;
  /**
   * Contended runs (`--keys`): how long an acquire may wait for a held key, in ms, through the
   * contender's own retry or wait mechanism (0 tries once); `retries` is then unused.
   * `undefined` for fresh keys, where `retries` bounds the attempts.
   */
  readonly waitTimeout: number | undefined;
  /**
   * Names this run's keys apart from any other's; the same in every load process of a run, so
   * that their contenders meet on the same keys.
   */
  readonly namespace: string;
}

/** Releases what an acquire took. */
export type Release = () => Promise<unknown>;

/** One contender connected to the nodes of a run. */
export interface ContenderSession {
  /** Takes `key`; resolves to its release, or `null` when the key stayed held. Rejects on errors. */
  acquire(key: string): Promise<Release | null>;
  /** Closes every connection. */
  close(): Promise<void>;
}

/** A lock library as the bench drives it. */
export interface Contender {
  /** Name on the command line and in reports. */
  readonly name: string;
  /** What it is, in a few words, for reports. */
  readonly description: string;
  /** Nodes it needs at least (redlock over three needs three). */
  readonly minNodes: number;
  /** Only meaningful on hot keys (`--keys`): left out of fresh-key runs. */
  readonly contendedOnly?: boolean;
  /** Locks only within one process: left out of runs with `--clients` above 1. */
  readonly singleProcess?: boolean;
  /** Nodes it sends traffic to; `undefined`: all of the run's nodes (0: none, it needs no Redis). */
  readonly nodesUsed?: number;
  /** Connects to `nodes`. */
  connect(
    nodes: readonly NodeAddress[],
    workload: LockWorkload,
    connect: ConnectOptions,
  ): Promise<ContenderSession>;
}

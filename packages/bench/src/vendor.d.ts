// Types for the parts of two untyped (or badly exported) contenders that the bench uses.

declare module 'hashring' {
  /** The `hashring` package: a ketama-style ring over server names. */
  export default class HashRing {
    constructor(
      servers: string[] | Record<string, number>,
      algorithm?: string,
      options?: Record<string, unknown>,
    );
    get(key: string): string;
  }
}

declare module 'redlock' {
  import type { EventEmitter } from 'node:events';
  import type { Redis } from 'ioredis';

  /** A redlock lock. */
  export interface Lock {
    release(): Promise<unknown>;
  }
  /** redlock 5's settings (its own types cannot be resolved through its `exports` map). */
  export interface Settings {
    readonly driftFactor?: number;
    readonly retryCount?: number;
    readonly retryDelay?: number;
    readonly retryJitter?: number;
    readonly automaticExtensionThreshold?: number;
  }
  /** The Redlock algorithm over a set of independent clients. */
  export default class Redlock extends EventEmitter {
    constructor(clients: Iterable<Redis>, settings?: Settings);
    acquire(resources: string[], duration: number, settings?: Settings): Promise<Lock>;
  }
}

import type { LockClient, LockClientOptions, NodeSpec } from '../../packages/core/src/index.js';

/** A grant as the clients record it; times in ms on the shared monotonic clock (hrMs). */
export interface RecordedGrant {
  key: string;
  token: string;
  fence: string;
  grantedAt: number;
  believedUntil: number;
  releasedAt: number;
  owner: string;
  nodeIds: string[];
}

/** An acquire that failed. */
export interface RecordedFailure {
  owner: string;
  key: string;
  code: string;
  at: number;
  timeout: boolean;
}

/** What the clients run. */
export interface ClientsConfig {
  name: string;
  seed: number;
  clients: number;
  workersPerClient: number;
  nodes: NodeSpec[];
  options: Omit<LockClientOptions, 'nodes'>;
  keys: string[];
  ttl: number;
  maxHold: number;
}

/** Running clients. */
export interface RunningClients {
  readonly clients: LockClient[];
  addNode(spec: NodeSpec): Promise<void>;
  removeNode(id: string): Promise<void>;
  stop(): Promise<void>;
}

export declare const hrMs: () => number;
export declare function startClients(
  config: ClientsConfig,
  report: { grant(grant: RecordedGrant): void; failure(failure: RecordedFailure): void },
): RunningClients;

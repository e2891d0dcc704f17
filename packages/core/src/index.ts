export { LockClient } from './client.js';
export { fingerprintOf, FINGERPRINT_LENGTH } from './admin/index.js';
export {
  ClientClosedError,
  CommandError,
  EvictionPolicyError,
  InvalidArgumentError,
  LockAbortedError,
  LockLostError,
  LockTimeoutError,
  NodePermissionError,
  NodeQuarantinedError,
  NodeUnavailableError,
  SettingsMismatchError,
  ShardlockError,
} from './errors.js';
export {
  DEFAULT_CLIENT_OPTIONS,
  DEFAULT_RETRY,
  TTL_CEILING,
  minTtlOf,
  resolveClientOptions,
} from './options.js';
export { OWNED_REDIS_OPTIONS } from './redis-options.js';
export { MAX_KEYS_PER_GROUP } from './acquire-many.js';
export { CHANNELS } from './diagnostics.js';

// Locks are made by the client only: their classes are types here, not constructors.
export type { Lock } from './lock.js';
export type { LockGroup } from './lock-group.js';
export type { NodeStats } from './client.js';
export type { NodeState } from './membership/types.js';
export type { AcquireOptions, WithLockOptions } from './acquire-options.js';
export type { ErrorContext, ShardlockErrorCode } from './errors.js';
export type {
  ForceReleaseEvent,
  LockClientEvents,
  LockLostEvent,
  LockLostReason,
  NodeErrorEvent,
  NodeQuarantinedEvent,
  NodeStateEvent,
  RebalanceEvent,
} from './events.js';
export type {
  LockClientOptions,
  ResolvedClientOptions,
  ResolvedRetryOptions,
  RetryOptions,
} from './options.js';
export type { UserRedisOptions } from './redis-options.js';
export type {
  AcquireTrace,
  BatchMessage,
  LockLostMessage,
  LockTrace,
  NodeStateMessage,
} from './diagnostics.js';
export type { HistogramSnapshot, MetricsSnapshot, NodeMetrics } from './metrics.js';
export type { NodeSpec, ResolvedNodeSpec } from './node-spec.js';
export type { LockedWork } from './with-lock.js';
export type {
  ForceReleasedNode,
  ForceReleaseOptions,
  ForceReleaseResult,
  HeldLockEntry,
  InspectedNode,
  LockInspection,
  LockListEntry,
  LockListError,
  LocksOptions,
} from './admin/index.js';

export { LockClient } from './client.js';
export { Lock } from './lock.js';
export { LockGroup } from './lock-group.js';
export {
  ClientClosedError,
  InvalidArgumentError,
  LockAbortedError,
  LockLostError,
  LockTimeoutError,
  NodeQuarantinedError,
  NodeUnavailableError,
  ShardlockError,
} from './errors.js';
export {
  DEFAULT_CLIENT_OPTIONS,
  DEFAULT_RETRY,
  TTL_CEILING,
  resolveClientOptions,
} from './options.js';
export { MAX_KEYS_PER_GROUP } from './acquire-many.js';
export { BATCH_SCRIPT, TOKEN_LENGTH } from './scripts/batch.js';

export type { NodeStats } from './client.js';
export type { AcquireOptions, WithLockOptions } from './acquire-options.js';
export type { ErrorContext, ShardlockErrorCode } from './errors.js';
export type {
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
export type { NodeSpec, ResolvedNodeSpec } from './node-spec.js';
export type { LockedWork } from './with-lock.js';

// Operator calls: look at a lock, list locks, clear a stuck one (the client's `inspect`,
// `locks` and `forceRelease`). Never on a lock's path: they run their own scripts, by SHA.
export { fingerprintOf, FINGERPRINT_LENGTH } from './fingerprint.js';
export { inspectKey } from './inspect.js';
export { listLocks, resolveLocksOptions } from './locks.js';
export { checkForceReleaseOptions, forceRelease } from './force-release.js';

export type { InspectedNode, LockInspection } from './inspect.js';
export type {
  HeldLockEntry,
  LockListEntry,
  LockListError,
  LocksOptions,
  ResolvedLocksOptions,
} from './locks.js';
export type {
  ForceReleasedNode,
  ForceReleaseOptions,
  ForceReleaseResult,
} from './force-release.js';

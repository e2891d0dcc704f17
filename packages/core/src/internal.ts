// The internal entry: what the simulator and the tests need beyond the public API. Not
// part of the published types; nothing here is covered by semver.
export { RUNTIME } from './internal-symbols.js';
export { defaultRuntime } from './runtime.js';
export { ioredisConnection } from './connection.js';
export { Membership, ContactPending } from './membership/membership.js';
export { readRecords } from './membership/records.js';
export { parseRecord, settingsText, memberValue, memberField } from './record.js';
export { DEFAULT_CLIENT_OPTIONS, quarantineOf } from './options.js';
export {
  BATCH_SCRIPT,
  OP_ACQUIRE,
  OP_EXTEND,
  OP_FAIR,
  OP_FENCE,
  OP_FORGET,
  OP_MARK,
  OP_POLITE,
  OP_QUORUM,
  OP_QUORUM_MARK,
  OP_RELEASE,
  OP_WAIT,
  TOKEN_LENGTH,
  TOO_LOW,
  WAIT_MARGIN,
  opArg,
  quorumArg,
} from './scripts/batch.js';
export { HELLO_SCRIPT, RECORD_SCRIPT } from './scripts/contact.js';

export type { Runtime } from './runtime.js';
export type { Connection, ConnectionFactory, ConnectionOptions } from './connection.js';
export type { BatchReply } from './scripts/batch.js';
export type { ContactInfo, Decision, MembershipTiming } from './membership/types.js';
export type { ClusterRecord, MemberEntry } from './record.js';
export type { ResolvedNodeSpec } from './node-spec.js';

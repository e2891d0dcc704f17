export { HashRing } from './ring.js';
export { RingError } from './errors.js';
export { murmur3 } from './hash.js';
export {
  DEFAULT_RING_OPTIONS,
  MAX_POINTS,
  MAX_VNODES,
  MAX_WEIGHT,
  resolveRingOptions,
} from './options.js';
export { MAX_NODE_ID_LENGTH } from './node.js';

export type { RingErrorCode } from './errors.js';
export type { HashFunction } from './hash.js';
export type { ResolvedRingOptions, RingOptions } from './options.js';
export type { RingNode, RingNodeInput } from './node.js';

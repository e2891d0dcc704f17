export { nodeSpecs, startNodes } from './cluster.js';
export { HarnessError } from './errors.js';
export { freePort } from '@shardlock/bench/redis-server';
export { RedisNode, stopAllNodes } from './redis-node.js';
export { makeSelfSignedCert } from './tls.js';

export type { NodeSpec } from './cluster.js';
export type { HarnessErrorCode, HarnessErrorContext } from './errors.js';
export type { RedisNodeOptions } from './redis-node.js';
export type { RedisUser, ServerConfig } from '@shardlock/bench/redis-server';
export type { TlsFiles } from './tls.js';
export { LinkProxy } from './link-proxy.js';
export type { LinkDirection, LinkMode } from './link-proxy.js';

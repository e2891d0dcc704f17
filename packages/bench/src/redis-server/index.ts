// Starting and stopping local redis-server processes: one implementation for the bench's
// embedded cluster (`local-cluster.ts`) and the test harness (`test/harness`), which adds
// its pid ledger, pauses, restarts and certificates on top.
export { RedisServerError } from './errors.js';
export { freePort } from './free-port.js';
export { OutputTail } from './output-tail.js';
export { pingOnce } from './probe.js';
export { isPortInUse, launch, stopProcess } from './process.js';
export { serverArgs } from './server-args.js';
export { DEFAULT_DIR_PREFIX, REDIS_SERVER_BIN, startServer } from './start.js';

export type { RedisServerErrorCode, RedisServerErrorContext } from './errors.js';
export type { ExitStatus, LaunchedProcess, LaunchOptions } from './process.js';
export type { ProbeTarget } from './probe.js';
export type { RedisUser, ServerConfig, ServerTlsFiles } from './server-args.js';
export type { StartedServer, StartOptions } from './start.js';

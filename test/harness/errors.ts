// The harness's error is the one the shared redis-server helpers throw (they live in
// packages/bench/src/redis-server, used by the bench's embedded cluster too): one class, so
// `instanceof HarnessError` holds for a start failure as for a harness argument error.
export { RedisServerError as HarnessError } from '@shardlock/bench/redis-server';
export type {
  RedisServerErrorCode as HarnessErrorCode,
  RedisServerErrorContext as HarnessErrorContext,
} from '@shardlock/bench/redis-server';

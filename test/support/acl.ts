/**
 * The ACL rule the core README gives a lock user: its key prefix, EVALSHA and EVAL, the
 * commands the scripts call, INFO and PING for first contact and health, CLIENT SETNAME.
 * core-security.test.ts runs a client with exactly it; admin-security.test.ts adds what an
 * operator needs.
 */
export const LOCK_USER_RULE: readonly string[] = [
  'resetkeys',
  '~shardlock:*',
  '-@all',
  '+evalsha',
  '+eval',
  '+set',
  '+get',
  '+pexpire',
  '+pttl',
  '+del',
  '+time',
  '+hget',
  '+hset',
  '+hgetall',
  '+hdel',
  '+exists',
  '+publish',
  '+subscribe',
  'resetchannels',
  '&shardlock:*',
  '+info',
  '+ping',
  '+client|setname',
];

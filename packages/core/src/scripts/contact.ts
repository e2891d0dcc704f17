/**
 * The first contact with a node's server, each time a connection becomes ready: who the
 * server is (its `run_id` and age), what the cluster's record on it says, and whether the
 * client's ACL user may run every command the lock script calls. Read-only but for one
 * probe key that lives for a second and a `hello` field in the record.
 *
 * KEYS[1] is the record (`${keyPrefix}cluster`, a hash), KEYS[2] a probe key.
 * Reply: `{ run_id, uptime_in_seconds, server time µs, failures, record }` where `failures`
 * lists `command<TAB>message` for each command the server refused (an ACL without `info`,
 * say) and `record` is the record's fields and values, flat. A command the server refuses
 * gives `''` or `-1` in its slot, so one missing permission is reported by name, not as a
 * script error that names nothing.
 */
export const HELLO_SCRIPT = `
local failures = {}
local function try(name, ...)
  local reply = redis.pcall(...)
  if type(reply) == 'table' and reply.err then
    failures[#failures + 1] = name .. '\\t' .. tostring(reply.err)
    return nil
  end
  return reply
end
local now = -1
local t = try('time', 'TIME')
if t then now = tonumber(t[1]) * 1000000 + tonumber(t[2]) end
local runId = ''
local uptime = -1
local info = try('info', 'INFO', 'server')
if info then
  runId = string.match(info, 'run_id:(%w+)') or ''
  uptime = tonumber(string.match(info, 'uptime_in_seconds:(%d+)') or '-1')
end
try('set', 'SET', KEYS[2], '1', 'NX', 'PX', '1000')
try('get', 'GET', KEYS[2])
try('pexpire', 'PEXPIRE', KEYS[2], '1000')
try('pttl', 'PTTL', KEYS[2])
try('del', 'DEL', KEYS[2])
try('exists', 'EXISTS', KEYS[2])
try('publish', 'PUBLISH', KEYS[2], '')
local record = try('hgetall', 'HGETALL', KEYS[1]) or {}
try('hget', 'HGET', KEYS[1], 'settings')
try('hset', 'HSET', KEYS[1], 'hello', string.format('%.0f', now))
try('hdel', 'HDEL', KEYS[1], 'probe')
return { runId, uptime, now, failures, record }
`;

/**
 * Writes what a client knows into a node's record, never overwriting what another client
 * recorded first: the shared settings and the node's own id are set only where absent, and
 * the reply carries what is stored, for the client to compare with its own.
 *
 * KEYS[1] is the record. ARGV: settings, self id, then the incarnation (`run_id`, or `''` to
 * leave it), the ms from the server's now until that incarnation is trusted, and `n` when the
 * client met it as a brand-new node no record listed (`s` when it may have served), then any
 * number of `field, value, mode` triples (`n`: set only where absent; `s`: set). `@now` in
 * a value becomes the server's time in µs.
 * Reply: `{ settings, self, incarnation, server time µs }` as stored after the call.
 *
 * The incarnation is `run_id:trustedFromµs:n|s`. Two clients that meet the same new server
 * and decide differently keep the later trust and `s`: the safe side (docs/safety.md, "late
 * clients").
 */
export const RECORD_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local nowText = string.format('%.0f', now)
local function setnx(field, value)
  local stored = redis.call('HGET', KEYS[1], field)
  if not stored then
    redis.call('HSET', KEYS[1], field, value)
    return value
  end
  return stored
end
local settings = setnx('settings', ARGV[1])
local self = setnx('self', ARGV[2])
local inc = redis.call('HGET', KEYS[1], 'inc') or ''
if ARGV[3] ~= '' then
  local trusted = now + tonumber(ARGV[4]) * 1000
  local served = ARGV[5]
  local runId, from, was = string.match(inc, '^(%w+):(%d+):([ns])$')
  if runId == ARGV[3] then
    if tonumber(from) >= trusted then trusted = tonumber(from) end
    if was == 's' then served = 's' end
  end
  inc = ARGV[3] .. ':' .. string.format('%.0f', trusted) .. ':' .. served
  redis.call('HSET', KEYS[1], 'inc', inc)
end
for i = 6, #ARGV, 3 do
  local value = string.gsub(ARGV[i + 1], '@now', nowText)
  if ARGV[i + 2] == 's' then
    redis.call('HSET', KEYS[1], ARGV[i], value)
  else
    setnx(ARGV[i], value)
  end
end
return { settings, self, inc, now }
`;

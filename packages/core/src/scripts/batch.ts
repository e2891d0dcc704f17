/** Length of a lock token: 16 random bytes in base64url. */
export const TOKEN_LENGTH = 22;

/** Op codes of {@link BATCH_SCRIPT}: the first character of each ARGV entry. */
export const OP_ACQUIRE = 'a';
/** Extend: reset the TTL if the key holds our token. */
export const OP_EXTEND = 'e';
/** Release: delete the key if it holds our token. */
export const OP_RELEASE = 'r';

/**
 * Runs many independent lock operations on one node in one atomic call, so the client pays
 * one command for all the acquires, extends and releases that one tick sends to a node.
 *
 * KEYS[1] is the node's fence counter; KEYS[2..] are lock keys. ARGV[i] belongs to KEYS[i+1]:
 * one op character, the 22-character token, then the TTL in ms (acquire, extend); an acquire
 * may end in `:floor`, a fence the grant must exceed (a key moving between nodes carries the
 * fence its old owner gave, so fences keep rising across the move).
 *
 * Replies, one per lock key:
 * - acquire: the fence (> 0) when granted (also when the key already holds our token, which
 *   makes a retried acquire idempotent); else `-1 - pttl` (≤ −1), the holder's remaining lease.
 * - extend, release: 1 when the key held our token, else 0.
 *
 * Fences: `max(server time in µs, last fence + 1)`, kept per node. They increase strictly on
 * a node, and still increase after the node restarts empty (its clock has moved on) or a
 * key moves to another node whose clock agrees within the quarantine window.
 */
export const BATCH_SCRIPT = `
local fence = nil
local now = 0
local out = {}
for i = 2, #KEYS do
  local arg = ARGV[i - 1]
  local op = string.sub(arg, 1, 1)
  local token = string.sub(arg, 2, ${TOKEN_LENGTH + 1})
  local key = KEYS[i]
  if op == '${OP_ACQUIRE}' then
    local ttl = string.sub(arg, ${TOKEN_LENGTH + 2})
    local floor = 0
    local colon = string.find(ttl, ':', 1, true)
    if colon then
      floor = tonumber(string.sub(ttl, colon + 1))
      ttl = string.sub(ttl, 1, colon - 1)
    end
    local granted = redis.call('SET', key, token, 'NX', 'PX', ttl)
    if not granted and redis.call('GET', key) == token then
      redis.call('PEXPIRE', key, ttl)
      granted = true
    end
    if granted then
      if fence == nil then
        local t = redis.call('TIME')
        now = tonumber(t[1]) * 1000000 + tonumber(t[2])
        fence = tonumber(redis.call('GET', KEYS[1]) or '0')
      end
      fence = math.max(now, fence + 1, floor + 1)
      out[i - 1] = fence
    else
      local pttl = redis.call('PTTL', key)
      if pttl < 0 then pttl = 0 end
      out[i - 1] = -1 - pttl
    end
  elseif redis.call('GET', key) == token then
    if op == '${OP_EXTEND}' then
      redis.call('PEXPIRE', key, string.sub(arg, ${TOKEN_LENGTH + 2}))
    else
      redis.call('DEL', key)
    end
    out[i - 1] = 1
  else
    out[i - 1] = 0
  end
end
if fence ~= nil then
  redis.call('SET', KEYS[1], string.format('%.0f', fence))
end
return out
`;

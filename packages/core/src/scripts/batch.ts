/** Length of a lock token: 16 random bytes in base64url. */
export const TOKEN_LENGTH = 22;

/** Op codes of {@link BATCH_SCRIPT}: the first character of each ARGV entry. */
export const OP_ACQUIRE = 'a';
/** Extend: reset the TTL if the key holds our token. */
export const OP_EXTEND = 'e';
/** Release: delete the key if it holds our token. */
export const OP_RELEASE = 'r';
/** Raise the node's fence counter to at least a floor; the reply is the counter. */
export const OP_FENCE = 'f';
/**
 * Quorum acquire: grant with the fence the client proposes, only if it is above the node's
 * counter, so every replica of a majority issues the same fence (docs/safety.md, quorum).
 */
export const OP_QUORUM = 'q';
/** First character of a quorum acquire's reply when its proposal was too low. */
export const TOO_LOW = 'L';

/** One op's reply: a number, or `E` and the server's message when the op failed alone. */
export type BatchReply = number | string;

/**
 * Runs many independent lock operations on one node in one atomic call, so the client pays
 * one command for all the acquires, extends and releases that one tick sends to a node.
 *
 * KEYS[1] is the node's fence counter; KEYS[2..] are lock keys. ARGV[i] belongs to KEYS[i+1]:
 * one op character, the 22-character token, then the TTL in ms (acquire, extend); an acquire
 * may end in `:floor`, a fence the grant must exceed (a key moving between nodes carries the
 * fence its old owner gave, so fences keep rising across the move). A fence op (`f`) is the
 * op character and a floor only; its key slot repeats KEYS[1].
 *
 * Replies, one per op:
 * - acquire: the fence (> 0) when granted (also when the key already holds our token, which
 *   makes a retried acquire idempotent); else `-1 - pttl` (≤ −1), the holder's remaining lease.
 * - extend, release: 1 when the key held our token, else 0.
 * - fence: the counter after raising it to the floor.
 * - quorum acquire (`q`, token, TTL, `=proposal`): the proposal when the key was free and
 *   the proposal is above the counter (which becomes the proposal), or when the key held our
 *   token (renewed); `-1 - pttl` when another token holds it; else `L` and the counter. A
 *   free key costs one `SET NX` (the counter is read once per call).
 * - any op the server refuses (the key holds a hash, out of memory): `E` and the server's
 *   message. Each op's Redis calls run under `pcall`, so one bad key fails alone and the
 *   batch's other grants stand and are reported (docs/safety.md, "one op, one outcome").
 *
 * Fences: `max(server time in µs, counter + 1, floor + 1)`, kept per node in KEYS[1]. They
 * increase strictly on a node, and still increase after the node restarts empty if its clock
 * moved on. Across nodes the client carries them with floors and `f` ops (docs/safety.md).
 */
export const BATCH_SCRIPT = `
local counter = nil
local now = nil
local dirty = false
local out = {}
for i = 2, #KEYS do
  local arg = ARGV[i - 1]
  local op = string.sub(arg, 1, 1)
  local key = KEYS[i]
  if op == '${OP_FENCE}' then
    if counter == nil then counter = tonumber(redis.call('GET', KEYS[1]) or '0') end
    local floor = tonumber(string.sub(arg, 2))
    if floor > counter then
      counter = floor
      dirty = true
    end
    out[i - 1] = counter
  elseif op == '${OP_QUORUM}' then
    local token = string.sub(arg, 2, ${TOKEN_LENGTH + 1})
    local rest = string.sub(arg, ${TOKEN_LENGTH + 2})
    local eq = string.find(rest, '=', 1, true)
    local ttl = string.sub(rest, 1, eq - 1)
    local proposal = tonumber(string.sub(rest, eq + 1))
    counter = counter or tonumber(redis.call('GET', KEYS[1]) or '0')
    local above = proposal > counter
    local put = false
    if above then put = redis.pcall('SET', key, token, 'NX', 'PX', ttl) end
    if type(put) == 'table' and put.err then
      out[i - 1] = 'E' .. tostring(put.err)
    elseif put then
      counter = proposal
      dirty = true
      out[i - 1] = proposal
    else
      local mine = redis.pcall('GET', key)
      if type(mine) == 'table' then
        out[i - 1] = 'E' .. tostring(mine.err)
      elseif mine == token then
        redis.call('PEXPIRE', key, ttl)
        if above then
          counter = proposal
          dirty = true
        end
        out[i - 1] = proposal
      elseif mine then
        local left = redis.call('PTTL', key)
        if left < 0 then left = 0 end
        out[i - 1] = -1 - left
      else
        out[i - 1] = '${TOO_LOW}' .. string.format('%.0f', counter)
      end
    end
  else
    local token = string.sub(arg, 2, ${TOKEN_LENGTH + 1})
    local granted = false
    local failed = nil
    local held = nil
    if op == '${OP_ACQUIRE}' then
      local ttl = string.sub(arg, ${TOKEN_LENGTH + 2})
      local floor = 0
      local colon = string.find(ttl, ':', 1, true)
      if colon then
        floor = tonumber(string.sub(ttl, colon + 1))
        ttl = string.sub(ttl, 1, colon - 1)
      end
      local set = redis.pcall('SET', key, token, 'NX', 'PX', ttl)
      if type(set) == 'table' and set.err then
        failed = set.err
      elseif set then
        granted = true
      else
        held = redis.pcall('GET', key)
        if type(held) == 'table' then
          failed = held.err
        elseif held == token then
          redis.call('PEXPIRE', key, ttl)
          granted = true
        end
      end
      if failed then
        out[i - 1] = 'E' .. tostring(failed)
      elseif granted then
        if counter == nil then counter = tonumber(redis.call('GET', KEYS[1]) or '0') end
        if now == nil then
          local t = redis.call('TIME')
          now = tonumber(t[1]) * 1000000 + tonumber(t[2])
        end
        counter = math.max(now, counter + 1, floor + 1)
        dirty = true
        out[i - 1] = counter
      else
        local pttl = redis.call('PTTL', key)
        if pttl < 0 then pttl = 0 end
        out[i - 1] = -1 - pttl
      end
    else
      held = redis.pcall('GET', key)
      if type(held) == 'table' then
        out[i - 1] = 'E' .. tostring(held.err)
      elseif held == token then
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
  end
end
if dirty then
  redis.call('SET', KEYS[1], string.format('%.0f', counter))
end
return out
`;

/** The ARGV entry of an acquire, extend or release. */
export function opArg(op: string, token: string, ttl: number, floor: number): string {
  if (ttl <= 0) return op + token;
  return floor > 0 ? `${op}${token}${ttl}:${floor}` : op + token + String(ttl);
}

/** The ARGV entry of a quorum acquire proposing `fence`. */
export function quorumArg(token: string, ttl: number, fence: number): string {
  return `${OP_QUORUM}${token}${ttl}=${fence}`;
}

/** The token inside an op's ARGV entry. */
export function tokenOf(arg: string): string {
  return arg.slice(1, TOKEN_LENGTH + 1);
}

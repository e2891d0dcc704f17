/** Length of a lock token: 16 random bytes in base64url. */
export const TOKEN_LENGTH = 22;

/** Op codes of {@link BATCH_SCRIPT}: the first character of each ARGV entry. */
export const OP_ACQUIRE = 'a';
/** Acquire that, when the key is held, marks the caller as waiting (docs/safety.md, wake-up). */
export const OP_MARK = 'm';
/**
 * As {@link OP_MARK}, and a grant also drops the caller's mark: an attempt after a wait. A
 * free key goes to it only when no live waiter was marked before it: woken waiters of
 * different processes do not race, the longest waiting goes first (no starvation).
 */
export const OP_WAIT = 'w';
/**
 * As {@link OP_WAIT}, but a free key is granted only when no other live waiter is marked: the
 * attempt a local release hands its key to, so that it never jumps ahead of other processes.
 */
export const OP_POLITE = 'p';
/** As {@link OP_WAIT} from the first try on: no acquire takes a free key ahead of the line. */
export const OP_FAIR = 'F';
/** Extend: reset the TTL if the key holds our token. */
export const OP_EXTEND = 'e';
/** Release: delete the key if it holds our token, and wake its waiters if any are marked. */
export const OP_RELEASE = 'r';
/** Forget: drop the caller's waiting mark (a waiter that gave up). */
export const OP_FORGET = 'x';
/** Raise the node's fence counter to at least a floor; the reply is the counter. */
export const OP_FENCE = 'f';
/**
 * Quorum acquire: grant with the fence the client proposes, only if it is above the node's
 * counter, so every replica of a majority issues the same fence (docs/safety.md, quorum).
 */
export const OP_QUORUM = 'q';
/** As {@link OP_QUORUM}, and marks the caller as waiting when the key is held. */
export const OP_QUORUM_MARK = 'Q';
/** First character of a quorum acquire's reply when its proposal was too low. */
export const TOO_LOW = 'L';
/**
 * How long a waiting mark outlives the wait its waiter announced, in ms: time for the
 * waiter's fallback poll to arrive and renew it. A waiter that died is forgotten this long
 * after its last announced wait.
 */
export const WAIT_MARGIN = 1_000;

/** One op's reply: a number, or `E` and the server's message when the op failed alone. */
export type BatchReply = number | string;

/**
 * Runs many independent lock operations on one node in one atomic call, so the client pays
 * one command for all the acquires, extends and releases that one tick sends to a node.
 *
 * KEYS[1] is the node's fence counter; KEYS[2..] are lock keys. ARGV[i] belongs to KEYS[i+1]:
 * one op character, the 22-character token, then the TTL in ms (acquires, extend); an acquire
 * may end in `:floor`, a fence the grant must exceed (a key moving between nodes carries the
 * fence its old owner gave, so fences keep rising across the move). A fence op (`f`) is the
 * op character and a floor only; its key slot repeats KEYS[1].
 *
 * Replies, one per op:
 * - acquire (`a`, `m`, `w`, `p`, `F`): the fence (> 0) when granted (also when the key
 *   already holds our token, which makes a retried acquire idempotent); else `-1 - ms` (≤ −1):
 *   the holder's remaining lease, or, when `w`, `p` or `F` left a free key to a waiter
 *   ahead, how long that waiter's mark still lives.
 * - extend, release: 1 when the key held our token, else 0. Forget (`x`): 0.
 * - fence: the counter after raising it to the floor.
 * - quorum acquire (`q`, `Q`; token, TTL, `=proposal`): the proposal when the key was free
 *   and the proposal is above the counter (which becomes the proposal), or when the key held
 *   our token (renewed); `-1 - pttl` when another token holds it; else `L` and the counter.
 *   A free key costs one `SET NX` (the counter is read once per call).
 * - any op the server refuses (the key holds a hash, out of memory): `E` and the server's
 *   message. Each op's Redis calls run under `pcall`, so one bad key fails alone and the
 *   batch's other grants stand and are reported (docs/safety.md, "one op, one outcome").
 *
 * Waiters (docs/safety.md, wake-up): `m`, `w`, `p`, `F` and `Q` that find the key held mark
 * their token in the hash `KEYS[1]:w:<key>` (value `arrival µs,expiry ms`, expiring
 * {@link WAIT_MARGIN} after the wait the reply announces). A release of a key with marks
 * publishes the key on the channel named KEYS[1]; a release nobody waits for publishes
 * nothing. The marks only decide when waiters try again, and whom `w`, `p` and `F` let go
 * first: every grant is still the `SET NX` of a free key.
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
local function clock()
  if now == nil then
    local t = redis.call('TIME')
    now = tonumber(t[1]) * 1000000 + tonumber(t[2])
  end
  return now
end
local function mark(wait, token, left)
  local t = clock()
  local entry = redis.pcall('HGET', wait, token)
  if type(entry) == 'table' then return end
  local arrival = string.format('%.0f', t)
  if entry then arrival = string.match(entry, '^[^,]*') end
  local life = left + ${WAIT_MARGIN}
  redis.pcall('HSET', wait, token, arrival .. ',' .. string.format('%.0f', math.floor(t / 1000) + life))
  local pttl = redis.pcall('PTTL', wait)
  if type(pttl) == 'number' and pttl < life then redis.pcall('PEXPIRE', wait, life) end
end
local function ahead(wait, token, fair)
  local ms = math.floor(clock() / 1000)
  local all = redis.pcall('HGETALL', wait)
  if all.err then return nil end
  local mine = now
  for i = 1, #all, 2 do
    if all[i] == token then mine = tonumber(string.match(all[i + 1], '^%d+')) or 0 end
  end
  local first = nil
  for i = 1, #all, 2 do
    local arrival = tonumber(string.match(all[i + 1], '^%d+')) or 0
    local left = (tonumber(string.match(all[i + 1], ',(%d+)$')) or 0) - ms
    if left <= 0 then
      redis.pcall('HDEL', wait, all[i])
    elseif all[i] ~= token and (not fair or arrival < mine) then
      if first == nil or left < first then first = left end
    end
  end
  return first
end
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
  elseif op == '${OP_QUORUM}' or op == '${OP_QUORUM_MARK}' then
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
        if op == '${OP_QUORUM_MARK}' then mark(KEYS[1] .. ':w:' .. key, token, left) end
        out[i - 1] = -1 - left
      else
        out[i - 1] = '${TOO_LOW}' .. string.format('%.0f', counter)
      end
    end
  elseif op == '${OP_FORGET}' then
    redis.pcall('HDEL', KEYS[1] .. ':w:' .. key, string.sub(arg, 2, ${TOKEN_LENGTH + 1}))
    out[i - 1] = 0
  else
    local token = string.sub(arg, 2, ${TOKEN_LENGTH + 1})
    local granted = false
    local failed = nil
    local held = nil
    if op == '${OP_EXTEND}' or op == '${OP_RELEASE}' then
      held = redis.pcall('GET', key)
      if type(held) == 'table' then
        out[i - 1] = 'E' .. tostring(held.err)
      elseif held == token then
        if op == '${OP_EXTEND}' then
          redis.call('PEXPIRE', key, string.sub(arg, ${TOKEN_LENGTH + 2}))
        else
          redis.call('DEL', key)
          if redis.call('EXISTS', KEYS[1] .. ':w:' .. key) == 1 then
            redis.pcall('PUBLISH', KEYS[1], key)
          end
        end
        out[i - 1] = 1
      else
        out[i - 1] = 0
      end
    else
      local ttl = string.sub(arg, ${TOKEN_LENGTH + 2})
      local floor = 0
      local colon = string.find(ttl, ':', 1, true)
      if colon then
        floor = tonumber(string.sub(ttl, colon + 1))
        ttl = string.sub(ttl, 1, colon - 1)
      end
      local wait = nil
      if op ~= '${OP_ACQUIRE}' then wait = KEYS[1] .. ':w:' .. key end
      local yield = nil
      if op == '${OP_POLITE}' then
        yield = ahead(wait, token, false)
      elseif op == '${OP_WAIT}' or op == '${OP_FAIR}' then
        yield = ahead(wait, token, true)
      end
      local set = false
      if yield == nil then set = redis.pcall('SET', key, token, 'NX', 'PX', ttl) end
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
        counter = math.max(clock(), counter + 1, floor + 1)
        dirty = true
        if wait and op ~= '${OP_MARK}' then redis.pcall('HDEL', wait, token) end
        out[i - 1] = counter
      else
        local pttl = redis.call('PTTL', key)
        if held == false and yield then pttl = yield end
        if pttl < 0 then pttl = 0 end
        if wait then mark(wait, token, pttl) end
        out[i - 1] = -1 - pttl
      end
    end
  end
end
if dirty then
  redis.call('SET', KEYS[1], string.format('%.0f', counter))
end
return out
`;

/** The ARGV entry of an acquire (any of its op codes), extend, release or forget. */
export function opArg(op: string, token: string, ttl: number, floor: number): string {
  if (ttl <= 0) return op + token;
  return floor > 0 ? `${op}${token}${ttl}:${floor}` : op + token + String(ttl);
}

/** The ARGV entry of a quorum acquire proposing `fence` (`op`: `q`, or `Q` to mark a wait). */
export function quorumArg(token: string, ttl: number, fence: number, op = OP_QUORUM): string {
  return `${op}${token}${ttl}=${fence}`;
}

/** Whether an op's loss must be cleaned up: every acquire and release (not extend, fence, forget). */
export function needsCleanup(op: string): boolean {
  return op !== OP_EXTEND && op !== OP_FENCE && op !== OP_FORGET;
}

/** The token inside an op's ARGV entry. */
export function tokenOf(arg: string): string {
  return arg.slice(1, TOKEN_LENGTH + 1);
}

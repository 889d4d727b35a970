// Over 400 lines: the store's Lua scripts, built from shared COMMON and READ prefixes over one state layout, read side by side.
/**
 * Lua scripts of the Redis feature store. They implement, step for step, the counter arithmetic
 * of `counters.ts` (the memory store's), so both stores answer the same; the conformance suite
 * checks it. A key's state is one binary string of little-endian doubles (exact, and about ten
 * times cheaper to decode in Redis's Lua than msgpack), its pending events a sorted set scored by
 * timestamp.
 *
 * State layout, doubles (1-based): [1] W, [2] R, [3] F, [4] N, [5..7] last event per type,
 * [8 .. 7+3W] T = D + S (kept alongside so a lookup with nothing pending at or after `now`
 * decodes only these first 7 + 3W doubles), then the last folded event per type, D (3W), S (3W),
 * the folded session (start, last, pages) and an arrival counter (orders same-time events of the
 * session key), the live session after every event (start, last, pages; a lookup later than
 * every event reads it without replaying anything), and the byte length of the folded session's
 * last request; after the doubles, the folded then the live session's last request ids. Sums are
 * indexed type-major: [type × W + w].
 *
 * @internal
 */

const COMMON = `
local NEVER = -1e300
local W = tonumber(ARGV[13])
local taus = {}
for w = 1, W do taus[w] = tonumber(ARGV[13 + w]) end
local I_LA = 4          -- last event per type: I_LA + 1 .. I_LA + 3
local I_T = 7           -- T: I_T + 1 .. I_T + 3W
local I_LF = 7 + 3 * W  -- last folded per type
local I_D = 10 + 3 * W  -- D
local I_S = 10 + 6 * W  -- S
local O = 10 + 9 * W    -- folded session start, last, pages, arrival counter: O + 1 .. O + 4
local L = O + 4         -- live session (after every event) start, last, pages: L + 1 .. L + 3
local ND = O + 8        -- [O + 8]: byte length of the folded session's request
local FOLDED_REQ = ND + 1
local LIVE_REQ = ND + 2
local HEAD = 7 + 3 * W
local FMT = '<' .. string.rep('d', ND)
local HEAD_FMT = '<' .. string.rep('d', HEAD)

-- Returns the state as a table of ND doubles plus the folded and live sessions' last requests
-- ([FOLDED_REQ], [LIVE_REQ]), or nil on a window mismatch.
local function load(key, t)
  local raw = redis.call('GET', key)
  if not raw then
    local s = {W, t, NEVER, NEVER}
    for i = 5, ND do s[i] = 0 end
    for i = 1, 3 do
      s[I_LA + i] = NEVER
      s[I_LF + i] = NEVER
    end
    s[O + 1] = NEVER
    s[O + 2] = NEVER
    s[L + 1] = NEVER
    s[L + 2] = NEVER
    s[FOLDED_REQ] = ''
    s[LIVE_REQ] = ''
    return s
  end
  if struct.unpack('<d', raw) ~= W or #raw < 8 * ND then return nil end
  local s = {struct.unpack(FMT, raw)}
  s[ND + 1] = nil
  s[FOLDED_REQ] = string.sub(raw, 8 * ND + 1, 8 * ND + s[ND])
  s[LIVE_REQ] = string.sub(raw, 8 * ND + s[ND] + 1)
  return s
end

local function save(key, s, ttl)
  local folded, live = s[FOLDED_REQ], s[LIVE_REQ]
  s[ND] = #folded
  s[FOLDED_REQ] = nil
  s[LIVE_REQ] = nil
  redis.call('SET', key, struct.pack(FMT, unpack(s, 1, ND)) .. folded .. live, 'PX', ttl)
  s[FOLDED_REQ] = folded
  s[LIVE_REQ] = live
end

-- Advances a session (the folded one at base O, or the live one at base L) by one event.
local function step(s, base, reqSlot, t, k, req, gap)
  if s[base + 2] == NEVER or t - s[base + 2] > gap then
    s[base + 1] = t
    s[base + 3] = 0
    s[reqSlot] = ''
  end
  if t > s[base + 2] then s[base + 2] = t end
  if k == 0 and req ~= s[reqSlot] then
    s[base + 3] = s[base + 3] + 1
    s[reqSlot] = req
  end
end

local function session_step(s, t, k, req, gap)
  step(s, O, FOLDED_REQ, t, k, req, gap)
end

-- The live session: the folded one replayed over every pending event, in order.
local function recompute_live(s, pkey, gap)
  s[L + 1], s[L + 2], s[L + 3], s[LIVE_REQ] = s[O + 1], s[O + 2], s[O + 3], s[FOLDED_REQ]
  local pending = redis.call('ZRANGE', pkey, 0, -1, 'WITHSCORES')
  for j = 1, #pending, 2 do
    local member = pending[j]
    step(s, L, LIVE_REQ, tonumber(pending[j + 1]), tonumber(string.sub(member, 13, 13)), string.sub(member, 14), gap)
  end
end
`;

/**
 * Records one event into several keys, at most once per (type, event id).
 * KEYS: (state, pending) pairs, then optionally the user's index set, then the group's event-id
 * set (a sorted set scored by event time: the ids of the events recorded into this hash-tag
 * group within the dedup window of its newest event, at most the dedup capacity of them).
 * ARGV: 1 time, 2 type, 3 eventId, 4 requestId, 5 capacity, 6 horizonMs, 7 ttlMs, 8 gapMs,
 * 9 rebaseMs, 10 pairs, 11 index of the event-id set in KEYS (0 none), 12 session pair (0 none),
 * 13 W, 14.. taus, then the count of index members and the members, then the dedup window (ms)
 * and the dedup capacity.
 * Returns 1 when recorded, 0 for a duplicate (nothing written). Because the check and the write
 * are one script, a call retried after a timeout or a failover is applied once.
 */
export const RECORD_SCRIPT = `${COMMON}
local t = tonumber(ARGV[1])
local k = tonumber(ARGV[2])
local eventId = ARGV[3]
local req = ARGV[4]
local capacity = tonumber(ARGV[5])
local horizon = tonumber(ARGV[6])
local ttl = tonumber(ARGV[7])
local gap = tonumber(ARGV[8])
local rebaseMs = tonumber(ARGV[9])
local pairs = tonumber(ARGV[10])
local dedup = tonumber(ARGV[11])
local sessionPair = tonumber(ARGV[12])

local seenMember = k .. ':' .. eventId
if dedup > 0 and redis.call('ZSCORE', KEYS[dedup], seenMember) then return 0 end

local states = {}
for p = 1, pairs do
  local s = load(KEYS[2 * p - 1], t)
  if not s then return redis.error_reply('E_CONFIG key ' .. KEYS[2 * p - 1] .. ' was written with another number of windows') end
  states[p] = s
end

local function fold_oldest(s, pkey, session)
  local popped = redis.call('ZPOPMIN', pkey)
  local member = popped[1]
  local ft = tonumber(popped[2])
  local fk, freq
  if session then
    fk = tonumber(string.sub(member, 13, 13))
    freq = string.sub(member, 14)
  else
    fk = tonumber(string.sub(member, 1, 1))
    freq = ''
  end
  for w = 1, W do
    local g = math.exp((ft - s[2]) / taus[w])
    local i = fk * W + w
    s[I_S + i] = s[I_S + i] - g
    s[I_D + i] = s[I_D + i] + g
  end
  if redis.call('ZCARD', pkey) == 0 then
    -- An empty pending set sums to zero exactly; T is then D alone.
    for i = 1, 3 * W do
      s[I_S + i] = 0
      s[I_T + i] = s[I_D + i]
    end
  end
  if ft > s[3] then s[3] = ft end
  if ft > s[I_LF + 1 + fk] then s[I_LF + 1 + fk] = ft end
  if session then session_step(s, ft, fk, freq, gap) end
end

for p = 1, pairs do
  local s = states[p]
  local key = KEYS[2 * p - 1]
  local pkey = KEYS[2 * p]
  local session = (p == sessionPair)
  -- An event at or after every earlier one extends the live session; any other rebuilds it.
  local inOrder = t >= s[4]
  if t - s[2] > rebaseMs then
    for w = 1, W do
      local ratio = math.exp(-(t - s[2]) / taus[w])
      for kk = 0, 2 do
        local i = kk * W + w
        s[I_D + i] = s[I_D + i] * ratio
        s[I_S + i] = s[I_S + i] * ratio
        s[I_T + i] = s[I_T + i] * ratio
      end
    end
    s[2] = t
  end
  if t > s[4] then s[4] = t end
  if t > s[I_LA + 1 + k] then s[I_LA + 1 + k] = t end
  if t <= s[3] then
    for w = 1, W do
      local i = k * W + w
      local g = math.exp((t - s[2]) / taus[w])
      s[I_D + i] = s[I_D + i] + g
      s[I_T + i] = s[I_T + i] + g
    end
    if t > s[I_LF + 1 + k] then s[I_LF + 1 + k] = t end
    if session then
      session_step(s, t, k, req, gap)
      recompute_live(s, pkey, gap)
    end
  else
    local member
    if session then
      s[O + 4] = s[O + 4] + 1
      member = string.format('%012x', s[O + 4]) .. k .. req
    else
      member = k .. ':' .. eventId
    end
    redis.call('ZADD', pkey, t, member)
    for w = 1, W do
      local i = k * W + w
      local g = math.exp((t - s[2]) / taus[w])
      s[I_S + i] = s[I_S + i] + g
      s[I_T + i] = s[I_T + i] + g
    end
    local oldest = s[4] - horizon
    while true do
      local n = redis.call('ZCARD', pkey)
      if n == 0 then break end
      if n <= capacity then
        local first = redis.call('ZRANGE', pkey, 0, 0, 'WITHSCORES')
        if tonumber(first[2]) >= oldest then break end
      end
      fold_oldest(s, pkey, session)
    end
    if session then
      if inOrder then step(s, L, LIVE_REQ, t, k, req, gap) else recompute_live(s, pkey, gap) end
    end
  end
  save(key, s, ttl)
  redis.call('PEXPIRE', pkey, ttl)
end

local at = 14 + W
local members = tonumber(ARGV[at])
if members > 0 then
  local index = KEYS[2 * pairs + 1]
  for i = 1, members do redis.call('SADD', index, ARGV[at + i]) end
  redis.call('PEXPIRE', index, ttl)
end
if dedup > 0 then
  local seen = KEYS[dedup]
  local window = tonumber(ARGV[at + members + 1])
  local cap = tonumber(ARGV[at + members + 2])
  redis.call('ZADD', seen, t, seenMember)
  local newest = redis.call('ZRANGE', seen, -1, -1, 'WITHSCORES')
  redis.call('ZREMRANGEBYSCORE', seen, '-inf', '(' .. string.format('%.0f', tonumber(newest[2]) - window))
  local extra = redis.call('ZCARD', seen) - cap
  if extra > 0 then redis.call('ZPOPMIN', seen, extra) end
  redis.call('PEXPIRE', seen, ttl)
end
return 1
`;

/**
 * Reading keys at `now` into the reply, shared by both lookup drivers. Redis's Lua is ~50× slower
 * than V8 at arithmetic, so in the common case the script only checks a key and hands its state
 * head over; the client does the math.
 */
const READ = `
local nowText = ARGV[1]
local now = tonumber(nowText)
local floor = tonumber(ARGV[4])
local BLOCK = 8 * (1 + HEAD)
local PAD = string.rep(string.char(0), BLOCK)
local out = {}

-- A block for an absent key, built once.
local ABSENT = string.sub(struct.pack('<d', -1) .. PAD, 1, BLOCK)

-- Appends one fixed-size block (1 + HEAD doubles) for the state \`raw\` of \`key\` (from MGET,
-- false when absent); \`pkey\` is its pending key (default key .. '|p', built only when read).
-- The first double says what follows. W (≥ 1): the state's first 1 + HEAD doubles as stored
-- (W, R, F, N, last per type, T, then one double the client ignores): one string.sub, no
-- concatenation. -1: absent. -2: the lookup would leak folded events; F follows. -3: some
-- pending events are at or after now; the decayed counts (3W), last impression and last click follow.
local function read(raw, key, pkey)
  if not raw then
    out[#out + 1] = ABSENT
    return true
  end
  if #raw < 8 * ND then return false end
  local w, R, F, N = struct.unpack('<dddd', raw)
  if w ~= W then return false end
  if now <= F or now < R - floor then
    out[#out + 1] = string.sub(struct.pack('<dd', -2, F) .. PAD, 1, BLOCK)
  elseif now > N then
    out[#out + 1] = string.sub(raw, 1, BLOCK)
  else
    local s = {struct.unpack(FMT, raw)}
    local counts = {}
    local lastImp, lastClick = s[I_LF + 1], s[I_LF + 2]
    for i = 1, 3 * W do counts[i] = s[I_D + i] end
    local pending = redis.call('ZRANGEBYSCORE', pkey or (key .. '|p'), '-inf', '(' .. nowText, 'WITHSCORES')
    for j = 1, #pending, 2 do
      local member = pending[j]
      local pt = tonumber(pending[j + 1])
      local pk
      if string.sub(member, 2, 2) == ':' then pk = tonumber(string.sub(member, 1, 1)) else pk = tonumber(string.sub(member, 13, 13)) end
      for v = 1, W do
        local i = pk * W + v
        counts[i] = counts[i] + math.exp((pt - R) / taus[v])
      end
      if pk == 0 and pt > lastImp then lastImp = pt end
      if pk == 1 and pt > lastClick then lastClick = pt end
    end
    for v = 1, W do
      local factor = math.exp(-(now - R) / taus[v])
      for kk = 0, 2 do counts[kk * W + v] = factor * counts[kk * W + v] end
    end
    counts[3 * W + 1] = lastImp
    counts[3 * W + 2] = lastClick
    out[#out + 1] = string.sub(struct.pack('<' .. string.rep('d', 3 * W + 3), -3, unpack(counts, 1, 3 * W + 2)) .. PAD, 1, BLOCK)
  end
  return true
end

-- Appends the user's session and returns what the client must replay. When every event is
-- before now: 0, then the live session (start, last, pages, 0), nothing to replay. Otherwise: 1,
-- the folded session (start, last, pages, #request, request bytes), and the pending events
-- before now (member, score, …), handed over as the sorted set answered them.
local function session(raw, pkey)
  if not raw then
    out[#out + 1] = struct.pack('<ddddd', 0, NEVER, NEVER, 0, 0)
    return {}
  end
  local s = {struct.unpack(FMT, raw)}
  if now > s[4] then
    -- Every event is before now: the live session is the answer, nothing to replay.
    out[#out + 1] = struct.pack('<ddddd', 0, s[L + 1], s[L + 2], s[L + 3], 0)
    return {}
  end
  local request = string.sub(raw, 8 * ND + 1, 8 * ND + s[ND])
  out[#out + 1] = struct.pack('<ddddd', 1, s[O + 1], s[O + 2], s[O + 3], #request) .. request
  return redis.call('ZRANGEBYSCORE', pkey, '-inf', '(' .. nowText, 'WITHSCORES')
end

-- The reply: the packed blocks first, then the session's pending events.
local function finish(pending)
  local reply = {table.concat(out)}
  for j = 1, #pending do reply[j + 1] = pending[j] end
  return reply
end

local function mismatch(key)
  return redis.error_reply('E_CONFIG key ' .. key .. ' was written with another number of windows')
end
`;

/**
 * Reads declared keys (one hash-tag group on a cluster).
 * KEYS: (state, pending) pairs. ARGV: 1 now, 2 pairs, 3 session pair (0 none), 4 readFloorMs,
 * 5..12 unused, 13 W, 14.. taus.
 * Returns an array: a binary string of one block per pair (then the folded session when asked),
 * followed by the session's pending events before now as member, score pairs (see READ).
 */
export const LOOKUP_KEYS_SCRIPT = `${COMMON}${READ}
local pairs = tonumber(ARGV[2])
local sessionPair = tonumber(ARGV[3])
local states = {}
for p = 1, pairs do states[p] = KEYS[2 * p - 1] end
-- One MGET for every state: each redis.call costs about a microsecond of its own.
local raws = redis.call('MGET', unpack(states))
for p = 1, pairs do
  if not read(raws[p], KEYS[2 * p - 1], KEYS[2 * p]) then return mismatch(KEYS[2 * p - 1]) end
end
local pending = {}
if sessionPair > 0 then pending = session(raws[sessionPair], KEYS[2 * sessionPair]) end
return finish(pending)
`;

/**
 * Reads the ads of a request that one Redis Cluster master holds, building their key names from
 * ids, so the call carries a dozen arguments instead of two per ad (the user's keys share one
 * slot and are read with a plain MGET, see redis-lookup.ts). Redis 7 refuses declared keys of
 * several slots in one call (CROSSSLOT) whatever the flags, so only the first ad's state key and
 * its pending key are declared (they route the call); the flag `allow-cross-slot-keys` lets the
 * script read the node's other slots, and Redis still checks every access: a key this node does
 * not serve fails the call ("non local key") rather than reading elsewhere, and the client falls
 * back to one call per hash tag. `no-writes` lets a replica serve it.
 * KEYS: 1 the first ad's state, 2 its pending key.
 * ARGV: 1 now, 2–3 unused, 4 readFloorMs, 5 unused, 6 prefix, 7 unused, 8 the ad ids (concatenated
 * '<byte length>:<id>' items), 9–12 unused, 13 W, 14.. taus.
 * Returns an array holding one binary string: a block per ad of ARGV[8], in order (see READ).
 */
export const LOOKUP_NODE_SCRIPT = `#!lua flags=no-writes,allow-cross-slot-keys${COMMON}${READ}
local prefix = ARGV[6]
local list = ARGV[8]
local at = 1
local n = #list
while at <= n do
  local colon = string.find(list, ':', at, true)
  local length = tonumber(string.sub(list, at, colon - 1))
  -- One slot per command: each ad is read with its own GET.
  local key = prefix .. '{a:' .. string.sub(list, colon + 1, colon + length) .. '}'
  if not read(redis.call('GET', key), key) then return mismatch(key) end
  at = colon + length + 1
end
return finish({})
`;

/**
 * Removes a user. KEYS: 1 state, 2 pending, 3 index set, 4 event-id set, then for every member
 * of the index set its state key and its pending key — every key the script touches is declared,
 * and all share the user's hash tag, so it runs on one node of a cluster. The caller reads the
 * index set first; when it has changed since (a record landed in between), the script deletes
 * nothing and returns -1, and the caller reads it again. Returns the number of keys deleted.
 */
export const FORGET_SCRIPT = `
local declared = {}
for i = 5, #KEYS, 2 do declared[KEYS[i]] = true end
if redis.call('SCARD', KEYS[3]) ~= (#KEYS - 4) / 2 then return -1 end
for _, member in ipairs(redis.call('SMEMBERS', KEYS[3])) do
  if not declared[member] then return -1 end
end
return redis.call('DEL', unpack(KEYS))
`;

/**
 * Records one impression into the exact counts of `frequency` (see `frequency.ts`): each key is a
 * sorted set of event ids scored by time, trimmed to the newest `limit`; an id already there is
 * left as it is (NX), so a redelivered event counts once.
 * KEYS: the frequency keys of the event (user, user × ad, × campaign, × advertiser), then the
 * user's index set (for `forgetUser`). ARGV: time, event id, limit, TTL in ms.
 */
export const FREQUENCY_RECORD_SCRIPT = `
local limit = tonumber(ARGV[3])
local ttl = tonumber(ARGV[4])
local index = KEYS[#KEYS]
for i = 1, #KEYS - 1 do
  local key = KEYS[i]
  redis.call('ZADD', key, 'NX', ARGV[1], ARGV[2])
  local n = redis.call('ZCARD', key)
  if n > limit then redis.call('ZREMRANGEBYRANK', key, 0, n - limit - 1) end
  redis.call('PEXPIRE', key, ttl)
  redis.call('SADD', index, key)
end
if redis.call('PTTL', index) < ttl then redis.call('PEXPIRE', index, ttl) end
return 1
`;

/**
 * Reads exact impression counts: for each key and window, the impressions scored in
 * (now − ms, now). KEYS: frequency keys. ARGV: '(' .. now, then '(' .. now − ms per window.
 * Returns the counts, key-major.
 */
export const FREQUENCY_LOOKUP_SCRIPT = `
local out = {}
local windows = #ARGV - 1
for i = 1, #KEYS do
  for w = 1, windows do
    out[#out + 1] = redis.call('ZCOUNT', KEYS[i], ARGV[1 + w], ARGV[1])
  end
end
return out
`;

/**
 * Lua scripts of the Redis feature store. They implement, step for step, the counter arithmetic
 * of `counters.ts` (the memory store's), so both stores answer the same; the conformance suite
 * checks it. A key's state is one binary string of little-endian doubles (exact, and about ten
 * times cheaper to decode in Redis's Lua than msgpack), its pending events a sorted set scored by
 * timestamp.
 *
 * State layout, doubles (1-based): [1] W, [2] R, [3] F, [4] N, [5..7] last folded per type,
 * [8..10] last per type, [11 .. 10+3W] D, [11+3W .. 10+6W] S, then session start, session last,
 * pages, and an arrival counter (orders same-time events of the session key); after the doubles,
 * the session's last request id.
 *
 * @internal
 */

const COMMON = `
local NEVER = -1e300
local W = tonumber(ARGV[13])
local taus = {}
for w = 1, W do taus[w] = tonumber(ARGV[13 + w]) end
local O = 10 + 6 * W
local ND = O + 4
local FMT = '<' .. string.rep('d', ND)

-- Returns the state as a table of ND doubles plus [O + 5] = last request, or nil on a window mismatch.
local function load(key, t)
  local raw = redis.call('GET', key)
  if not raw then
    local s = {W, t, NEVER, NEVER, NEVER, NEVER, NEVER, NEVER, NEVER, NEVER}
    for i = 1, 6 * W do s[10 + i] = 0 end
    s[O + 1] = NEVER
    s[O + 2] = NEVER
    s[O + 3] = 0
    s[O + 4] = 0
    s[O + 5] = ''
    return s
  end
  if struct.unpack('<d', raw) ~= W or #raw < 8 * ND then return nil end
  local s = {struct.unpack(FMT, raw)}
  s[ND + 1] = string.sub(raw, 8 * ND + 1)
  return s
end

local function save(key, s, ttl)
  local request = s[O + 5]
  s[O + 5] = nil
  redis.call('SET', key, struct.pack(FMT, unpack(s, 1, ND)) .. request, 'PX', ttl)
  s[O + 5] = request
end

local function session_step(s, t, k, req, gap)
  if s[O + 2] == NEVER or t - s[O + 2] > gap then
    s[O + 1] = t
    s[O + 3] = 0
    s[O + 5] = ''
  end
  if t > s[O + 2] then s[O + 2] = t end
  if k == 0 and req ~= s[O + 5] then
    s[O + 3] = s[O + 3] + 1
    s[O + 5] = req
  end
end
`;

/**
 * Records one event into several keys.
 * KEYS: (state, pending) pairs, then optionally the user's index set.
 * ARGV: 1 time, 2 type, 3 eventId, 4 requestId, 5 capacity, 6 horizonMs, 7 ttlMs, 8 gapMs,
 * 9 rebaseMs, 10 pairs, 11 dedup pair (0 none), 12 session pair (0 none), 13 W, 14.. taus,
 * then the count of index members and the members.
 * Returns 1 when recorded, 0 for a duplicate.
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

if dedup > 0 and redis.call('ZSCORE', KEYS[2 * dedup], k .. ':' .. eventId) then return 0 end

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
    local i = 10 + fk * W + w
    s[i + 3 * W] = s[i + 3 * W] - g
    s[i] = s[i] + g
  end
  if redis.call('ZCARD', pkey) == 0 then
    for i = 11 + 3 * W, 10 + 6 * W do s[i] = 0 end
  end
  if ft > s[3] then s[3] = ft end
  if ft > s[5 + fk] then s[5 + fk] = ft end
  if session then session_step(s, ft, fk, freq, gap) end
end

for p = 1, pairs do
  local s = states[p]
  local key = KEYS[2 * p - 1]
  local pkey = KEYS[2 * p]
  local session = (p == sessionPair)
  if t - s[2] > rebaseMs then
    for w = 1, W do
      local ratio = math.exp(-(t - s[2]) / taus[w])
      for kk = 0, 2 do
        local i = 10 + kk * W + w
        s[i] = s[i] * ratio
        s[i + 3 * W] = s[i + 3 * W] * ratio
      end
    end
    s[2] = t
  end
  if t > s[4] then s[4] = t end
  if t > s[8 + k] then s[8 + k] = t end
  if t <= s[3] then
    for w = 1, W do
      local i = 10 + k * W + w
      s[i] = s[i] + math.exp((t - s[2]) / taus[w])
    end
    if t > s[5 + k] then s[5 + k] = t end
    if session then session_step(s, t, k, req, gap) end
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
      local i = 10 + 3 * W + k * W + w
      s[i] = s[i] + math.exp((t - s[2]) / taus[w])
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
return 1
`;

/** Reading one key at `now` into the reply: shared by both lookup drivers. */
const READ = `
local nowText = ARGV[1]
local now = tonumber(nowText)
local floor = tonumber(ARGV[4])
local gap = tonumber(ARGV[5])
local BLOCK = '<' .. string.rep('d', 3 * W + 3)
local zeros = {}
for i = 1, 3 * W + 2 do zeros[i] = 0 end
local out = {}
local counts = {}

-- Appends one block: status (0 counters, 1 absent, 2 would leak), 3W counts, last impression,
-- last click (or F for status 2); the session key adds seconds and pages.
local function read(key, pkey, session)
  local raw = redis.call('GET', key)
  if not raw then
    out[#out + 1] = struct.pack(BLOCK, 1, unpack(zeros))
    if session then out[#out + 1] = struct.pack('<dd', 0, 0) end
    return true
  end
  if struct.unpack('<d', raw) ~= W or #raw < 8 * ND then return false end
  local s = {struct.unpack(FMT, raw)}
  if now <= s[3] or now < s[2] - floor then
    zeros[1] = s[3]
    out[#out + 1] = struct.pack(BLOCK, 2, unpack(zeros))
    zeros[1] = 0
    if session then out[#out + 1] = struct.pack('<dd', 0, 0) end
    return true
  end
  local lastImp, lastClick
  local pending = nil
  if now > s[4] then
    for i = 1, 3 * W do counts[i] = s[10 + i] + s[10 + 3 * W + i] end
    lastImp = s[8]
    lastClick = s[9]
  else
    for i = 1, 3 * W do counts[i] = s[10 + i] end
    lastImp = s[5]
    lastClick = s[6]
    pending = redis.call('ZRANGEBYSCORE', pkey, '-inf', '(' .. nowText, 'WITHSCORES')
    for j = 1, #pending, 2 do
      local member = pending[j]
      local pt = tonumber(pending[j + 1])
      local pk
      if session then pk = tonumber(string.sub(member, 13, 13)) else pk = tonumber(string.sub(member, 1, 1)) end
      for w = 1, W do
        local i = pk * W + w
        counts[i] = counts[i] + math.exp((pt - s[2]) / taus[w])
      end
      if pk == 0 and pt > lastImp then lastImp = pt end
      if pk == 1 and pt > lastClick then lastClick = pt end
    end
  end
  for w = 1, W do
    local factor = math.exp(-(now - s[2]) / taus[w])
    for kk = 0, 2 do counts[kk * W + w] = factor * counts[kk * W + w] end
  end
  counts[3 * W + 1] = lastImp
  counts[3 * W + 2] = lastClick
  out[#out + 1] = struct.pack(BLOCK, 0, unpack(counts, 1, 3 * W + 2))
  if session then
    local start, last, pages, request = s[O + 1], s[O + 2], s[O + 3], string.sub(raw, 8 * ND + 1)
    if pending == nil then pending = redis.call('ZRANGEBYSCORE', pkey, '-inf', '(' .. nowText, 'WITHSCORES') end
    for j = 1, #pending, 2 do
      local member = pending[j]
      local pt = tonumber(pending[j + 1])
      local pk = tonumber(string.sub(member, 13, 13))
      local preq = string.sub(member, 14)
      if last == NEVER or pt - last > gap then
        start = pt
        pages = 0
        request = ''
      end
      if pt > last then last = pt end
      if pk == 0 and preq ~= request then
        pages = pages + 1
        request = preq
      end
    end
    if last == NEVER or now - last > gap then
      out[#out + 1] = struct.pack('<dd', 0, 0)
    else
      out[#out + 1] = struct.pack('<dd', (now - start) / 1000, pages)
    end
  end
  return true
end

local function mismatch(key)
  return redis.error_reply('E_CONFIG key ' .. key .. ' was written with another number of windows')
end
`;

/**
 * Reads declared keys (one hash-tag group on a cluster).
 * KEYS: (state, pending) pairs. ARGV: 1 now, 2 pairs, 3 session pair (0 none), 4 readFloorMs,
 * 5 gapMs, 6..12 unused, 13 W, 14.. taus.
 * Returns one binary string of little-endian doubles: one block per pair (see READ).
 */
export const LOOKUP_KEYS_SCRIPT = `${COMMON}${READ}
local pairs = tonumber(ARGV[2])
local sessionPair = tonumber(ARGV[3])
for p = 1, pairs do
  if not read(KEYS[2 * p - 1], KEYS[2 * p], p == sessionPair) then return mismatch(KEYS[2 * p - 1]) end
end
return table.concat(out)
`;

/**
 * Reads a whole request on a single Redis server, building the key names from ids, so the
 * request carries a dozen arguments instead of two per key.
 * ARGV: 1 now, 2..3 unused, 4 readFloorMs, 5 gapMs, 6 prefix, 7 user id, 8 ad ids, 9 categories,
 * 10 advertisers (each list as concatenated '<byte length>:<id>' items), 11..12 unused, 13 W, 14.. taus.
 * Blocks, in order: the user (with its session), each ad, each user × ad, each user × category,
 * each user × advertiser.
 */
export const LOOKUP_IDS_SCRIPT = `${COMMON}${READ}
local prefix = ARGV[6]
local user = prefix .. '{u:' .. ARGV[7] .. '}'
local function each(list, f)
  local at = 1
  local n = #list
  while at <= n do
    local colon = string.find(list, ':', at, true)
    local length = tonumber(string.sub(list, at, colon - 1))
    local id = string.sub(list, colon + 1, colon + length)
    f(id, length)
    at = colon + length + 1
  end
end
if not read(user, user .. '|p', true) then return mismatch(user) end
local ok = true
each(ARGV[8], function(id) if ok and not read(prefix .. '{a:' .. id .. '}', prefix .. '{a:' .. id .. '}|p', false) then ok = false end end)
each(ARGV[8], function(id, length) local k = user .. '|a|' .. length .. ':' .. id if ok and not read(k, k .. '|p', false) then ok = false end end)
each(ARGV[9], function(id, length) local k = user .. '|c|' .. length .. ':' .. id if ok and not read(k, k .. '|p', false) then ok = false end end)
each(ARGV[10], function(id, length) local k = user .. '|v|' .. length .. ':' .. id if ok and not read(k, k .. '|p', false) then ok = false end end)
if not ok then return mismatch(user) end
return table.concat(out)
`;

/**
 * Removes a user: KEYS[1] state, KEYS[2] pending, KEYS[3] index set (every key shares the user's
 * hash tag, so the script runs on one node of a cluster). Returns the number of keys deleted.
 */
export const FORGET_SCRIPT = `
local members = redis.call('SMEMBERS', KEYS[3])
local deleted = 0
for _, key in ipairs(members) do
  deleted = deleted + redis.call('DEL', key, key .. '|p')
end
deleted = deleted + redis.call('DEL', KEYS[1], KEYS[2], KEYS[3])
return deleted
`;

/**
 * Lua scripts of the Redis ledger. Every script touches only the four keys of one budget group,
 * which share a hash tag, so each runs atomically on one Redis Cluster node.
 *
 * Key layout for group `g` (an advertiser with budgets, or a lone campaign) under prefix `P`:
 * - `P{g}:lines` hash — per budget line `<line>|s` spent, `<line>|r` reserved (held by holds),
 *   `<line>|d` the local day a daily line's spend belongs to; amounts in integer micros;
 * - `P{g}:holds` hash — per hold `<id>|a` amount held, `<id>|q` last applied settle sequence,
 *   `<id>|l` its lines (joined by \x1f);
 * - `P{g}:exp` sorted set — hold id → expiry, in Redis server milliseconds (TIME), so that
 *   processes with skewed clocks agree on when a lease is dead;
 * - `P{g}:done` sorted set — tombstones `<id>#<seq>` of settles that closed or replaced a hold,
 *   kept 15 minutes with their reply (in `holds` under `#<id>#<seq>`), so that a settle retried
 *   after a timeout whose command did run is not counted twice and learns what happened.
 *
 * A hold is either one reservation (direct mode) or one process's lease. Expired holds are reaped
 * at the start of every script: their amount goes back to the lines.
 *
 * @internal
 */

const PRELUDE = `
local LINES, HOLDS, EXP, DONE = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local SEP = '\\31'
local function fmt(n)
  if n == 0 then return '0' end
  return string.format('%.0f', n)
end
local function nowMs()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function split(s)
  local out = {}
  for part in string.gmatch(s, '[^\\31]+') do out[#out + 1] = part end
  return out
end
local function reap(now)
  local ids = redis.call('ZRANGEBYSCORE', EXP, '-inf', now, 'LIMIT', 0, 256)
  for _, id in ipairs(ids) do
    local amount = tonumber(redis.call('HGET', HOLDS, id .. '|a') or '0')
    local lines = redis.call('HGET', HOLDS, id .. '|l')
    if lines and amount ~= 0 then
      for _, line in ipairs(split(lines)) do redis.call('HINCRBY', LINES, line .. '|r', fmt(-amount)) end
    end
    redis.call('HDEL', HOLDS, id .. '|a', id .. '|q', id .. '|l')
    redis.call('ZREM', EXP, id)
  end
  local old = redis.call('ZRANGEBYSCORE', DONE, '-inf', now - 900000, 'LIMIT', 0, 256)
  for _, tomb in ipairs(old) do
    redis.call('HDEL', HOLDS, '#' .. tomb)
    redis.call('ZREM', DONE, tomb)
  end
end
local function remember(now, tomb, status, amount)
  redis.call('HSET', HOLDS, '#' .. tomb, status .. ',' .. amount)
  redis.call('ZADD', DONE, now, tomb)
  return { status, amount }
end
local function readLines(base)
  local n = tonumber(ARGV[base])
  local lines = {}
  for i = 1, n do
    local k = base + (i - 1) * 3
    lines[i] = { key = ARGV[k + 1], limit = tonumber(ARGV[k + 2]), day = tonumber(ARGV[k + 3]) }
  end
  return lines
end
local function roll(line)
  local f = redis.call('HMGET', LINES, line.key .. '|s', line.key .. '|r', line.key .. '|d')
  line.spent = tonumber(f[1] or '0')
  line.reserved = tonumber(f[2] or '0')
  if line.day >= 0 and line.day > tonumber(f[3] or '-1') then
    redis.call('HSET', LINES, line.key .. '|s', '0', line.key .. '|d', fmt(line.day))
    line.spent = 0
  end
end
local function available(lines)
  local avail = nil
  for _, line in ipairs(lines) do
    local a = line.limit - line.spent - line.reserved
    if avail == nil or a < avail then avail = a end
  end
  return avail
end
`;

/**
 * HOLD: take up to `want` (at least `min`, at most half of what is left unless `min` needs more)
 * micros from every line into hold `id`, never letting the hold exceed `cap` micros (so a retried
 * or timed-out call cannot grow a lease past its bound).
 * ARGV: id, want, min, ttlMs, mustExist (1 when the caller believes the hold exists), cap, nLines, (key, limit, day)…
 * Returns {1, grant, amount, availableAfter} | {0, available, amount} (budget short) | {-1} (hold gone) |
 * {-5, available, amount} (the hold is at its cap).
 *
 * @internal
 */
export const HOLD_SCRIPT = `${PRELUDE}
local now = nowMs()
reap(now)
local id = ARGV[1]
local want, min, ttl, cap = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[6])
local lines = readLines(7)
for _, line in ipairs(lines) do roll(line) end
local current = redis.call('HGET', HOLDS, id .. '|a')
if ARGV[5] == '1' and not current then return { '-1', '0', '0' } end
local held = tonumber(current or '0')
local avail = available(lines)
if cap - held < min then return { '-5', fmt(math.max(avail, 0)), fmt(held) } end
-- Never take more than half of what is left beyond what the bid needs now, so that processes
-- sharing a nearly spent budget all get a share instead of the first one taking it all.
local grant = math.min(want, math.max(min, math.floor(avail / 2)), avail, cap - held)
if grant < min or grant <= 0 then return { '0', fmt(math.max(avail, 0)), fmt(held) } end
for _, line in ipairs(lines) do redis.call('HINCRBY', LINES, line.key .. '|r', fmt(grant)) end
local amount = redis.call('HINCRBY', HOLDS, id .. '|a', fmt(grant))
if not current then
  local keys = {}
  for i, line in ipairs(lines) do keys[i] = line.key end
  redis.call('HSET', HOLDS, id .. '|l', table.concat(keys, SEP), id .. '|q', '0')
end
redis.call('ZADD', EXP, now + ttl, id)
return { '1', fmt(grant), fmt(amount), fmt(avail - grant) }
`;

/**
 * SETTLE: record `spent` from hold `id`, return `release` to the lines (−1: close the hold and
 * return all that remains), extend its expiry by `ttlMs` (0: leave it).
 * When the hold no longer exists, `lateMode` decides: 0 do nothing, 1 record `spent` only if every
 * line can still cover it, 2 record it regardless (spend a lost lease already acknowledged).
 * ARGV: id, seq, spent, release, ttlMs, lateMode, nLines, (key, limit, day)…
 * Returns {1, amount} (kept; also for a retry of a settle already applied to a live hold) |
 * {2, 0} (closed) | {-1} (gone, nothing recorded) | {-2} (gone, spend recorded) |
 * {-3, available} (gone, did not fit) | {-4, amount} (asked to settle more than the hold has;
 * nothing changed). A retry of a settle that closed the hold or recorded late spend gets the
 * original reply again.
 *
 * @internal
 */
export const SETTLE_SCRIPT = `${PRELUDE}
local now = nowMs()
reap(now)
local id, seqText = ARGV[1], ARGV[2]
local seq, spent, release, ttl, late = tonumber(seqText), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local tomb = id .. '#' .. seqText
local seen = redis.call('HGET', HOLDS, '#' .. tomb)
if seen then
  local status, amount = string.match(seen, '([^,]+),([^,]+)')
  return { status, amount }
end
local lines = readLines(7)
for _, line in ipairs(lines) do roll(line) end
local current = redis.call('HGET', HOLDS, id .. '|a')
if not current then
  if spent <= 0 or late == 0 then return { '-1', '0' } end
  if late == 1 then
    local avail = available(lines)
    if spent > avail then return { '-3', fmt(math.max(avail, 0)) } end
  end
  for _, line in ipairs(lines) do redis.call('HINCRBY', LINES, line.key .. '|s', fmt(spent)) end
  return remember(now, tomb, '-2', '0')
end
local amount = tonumber(current)
if seq <= tonumber(redis.call('HGET', HOLDS, id .. '|q') or '0') then return { '1', fmt(amount) } end
local closing = release < 0
if closing then release = amount - spent end
if release < 0 or spent + release > amount then return { '-4', fmt(amount) } end
for _, line in ipairs(lines) do
  if spent > 0 then redis.call('HINCRBY', LINES, line.key .. '|s', fmt(spent)) end
  if spent + release > 0 then redis.call('HINCRBY', LINES, line.key .. '|r', fmt(-(spent + release))) end
end
amount = amount - spent - release
if closing or amount <= 0 then
  redis.call('HDEL', HOLDS, id .. '|a', id .. '|q', id .. '|l')
  redis.call('ZREM', EXP, id)
  return remember(now, tomb, '2', '0')
end
redis.call('HSET', HOLDS, id .. '|a', fmt(amount), id .. '|q', seqText)
if ttl > 0 then redis.call('ZADD', EXP, now + ttl, id) end
return { '1', fmt(amount) }
`;

/**
 * SNAPSHOT: reap, roll and read every line of a campaign.
 * ARGV: nLines, (key, limit, day)…  Returns {spent1, reserved1, spent2, reserved2, …}.
 *
 * @internal
 */
export const SNAPSHOT_SCRIPT = `${PRELUDE}
reap(nowMs())
local lines = readLines(1)
local out = {}
for _, line in ipairs(lines) do
  roll(line)
  out[#out + 1] = fmt(line.spent)
  out[#out + 1] = fmt(line.reserved)
end
return out
`;

// The Lua scripts of the Redis backend. Each runs atomically inside Redis, so an admission is one
// round trip that checks every limit and, only when all allow it, counts the call, the task, the
// slot, the reservation and the chosen key together: no read-modify-write race between instances.
//
// Why not rate-limiter-flexible: its limiters each count one limit per call, and combining them
// (RateLimiterUnion) costs a round trip per limit and consumes points from the limits that
// allowed a call even when another refused it. Five tenant limits, leases, budget reservations
// and key pacing, all-or-nothing, in one round trip, need one script.

/**
 * Key pacing, shared by ADMIT and PICK_KEY: of `count` candidate keys, whose 10 s windows are
 * KEYS[keysAt + i] and allowances ARGV[argsAt + i], the one with most allowance left (its index,
 * 1-based), else 0 and the milliseconds until a window frees a slot. Counts nothing.
 */
const CHOOSE_KEY = `
local function chooseKey(now, keysAt, argsAt, count)
  local best, bestLeft, soonest = 0, 0, -1
  for i = 1, count do
    local window = KEYS[keysAt + i]
    redis.call('ZREMRANGEBYSCORE', window, '-inf', now - 10000)
    local left = tonumber(ARGV[argsAt + i]) - redis.call('ZCARD', window)
    if left > bestLeft then
      best, bestLeft = i, left
    elseif left <= 0 then
      local oldest = redis.call('ZRANGE', window, 0, 0, 'WITHSCORES')
      if oldest[2] then
        local wait = tonumber(oldest[2]) + 10000 - now
        if soonest < 0 or wait < soonest then soonest = wait end
      end
    end
  end
  if soonest < 0 then soonest = 10000 end
  return best, soonest
end
`;

/** Drops a slot's reservation and takes it off the running sum (field '=') if it was there. */
const FREE_RESERVATION = `
local function freeReservation(hash, slotId)
  local reserved = redis.call('HGET', hash, slotId)
  if reserved then
    redis.call('HDEL', hash, slotId)
    redis.call('HINCRBY', hash, '=', -tonumber(reserved))
  end
end
`;

/**
 * KEYS: rpm, day, month, slots (zset slot → expiry), reserved (hash slot → micros, and their sum
 *       in the field '='), spent,
 *       seeded (the tenant's counters were rebuilt from the ledger since this Redis started),
 *       then one pacing window (zset) per candidate key.
 * ARGV: now, rpmLimit, isTask, dayLimit, monthLimit, inFlightLimit, budgetMicros, estimateMicros,
 *       slotId, expiresAt, msToNextMinute, msToNextDay, msToNextMonth, keyCount, member,
 *       then one allowance per candidate key. A limit of -1 is off.
 * Returns { status, detail, retryAfterMs, rpm, day, month, inFlight, usedMicros }:
 *   status 1 ok (detail = index of the chosen key, 1-based, or 0), 0 refused (detail = limit),
 *   2 paced (no key has allowance left), 3 not seeded: this Redis lost (or never had) the tenant's
 *   counters; rebuild them from the ledger (SEED) and admit again. Nothing was counted.
 */
export const ADMIT = `${CHOOSE_KEY}${FREE_RESERVATION}
local now = tonumber(ARGV[1])
local rpmLimit = tonumber(ARGV[2])
if ARGV[3] == '1' and redis.call('EXISTS', KEYS[7]) == 0 then return {3, 'seed', 0, 0, 0, 0, 0, 0} end
local rpm = redis.call('INCR', KEYS[1])
if rpm == 1 then redis.call('PEXPIRE', KEYS[1], 120000) end
if rpmLimit >= 0 and rpm > rpmLimit then
  return {0, 'requestsPerMinute', tonumber(ARGV[11]), rpm, 0, 0, 0, 0}
end
if ARGV[3] ~= '1' then return {1, '0', 0, rpm, 0, 0, 0, 0} end

-- The reservations hash keeps their sum in the field '=', so no admission scans them all.
local expired = redis.call('ZRANGEBYSCORE', KEYS[4], '-inf', now)
for i = 1, #expired do freeReservation(KEYS[5], expired[i]) end
if #expired > 0 then redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', now) end

local day = tonumber(redis.call('GET', KEYS[2]) or '0')
local month = tonumber(redis.call('GET', KEYS[3]) or '0')
local inFlight = redis.call('ZCARD', KEYS[4])
local used = tonumber(redis.call('GET', KEYS[6]) or '0') + tonumber(redis.call('HGET', KEYS[5], '=') or '0')
local estimate = tonumber(ARGV[8])

local function refuse(limit, wait) return {0, limit, wait, rpm, day, month, inFlight, used} end
if tonumber(ARGV[4]) >= 0 and day >= tonumber(ARGV[4]) then return refuse('tasksPerDay', tonumber(ARGV[12])) end
if tonumber(ARGV[5]) >= 0 and month >= tonumber(ARGV[5]) then return refuse('tasksPerMonth', tonumber(ARGV[13])) end
if tonumber(ARGV[6]) >= 0 and inFlight >= tonumber(ARGV[6]) then
  local first = redis.call('ZRANGE', KEYS[4], 0, 0, 'WITHSCORES')
  local wait = 5000
  if first[2] and tonumber(first[2]) - now < wait then wait = tonumber(first[2]) - now end
  return refuse('maxInFlight', wait)
end
if tonumber(ARGV[7]) >= 0 and used + estimate > tonumber(ARGV[7]) then return refuse('budgetUsdPerMonth', tonumber(ARGV[13])) end

local keyCount = tonumber(ARGV[14])
local best, soonest = chooseKey(now, 7, 15, keyCount)
if keyCount > 0 and best == 0 then
  return {2, 'paced', soonest, rpm, day, month, inFlight, used}
end

if best > 0 then
  redis.call('ZADD', KEYS[7 + best], now, ARGV[15])
  redis.call('PEXPIRE', KEYS[7 + best], 20000)
end
redis.call('INCR', KEYS[2])
redis.call('PEXPIRE', KEYS[2], 2 * 86400000)
redis.call('INCR', KEYS[3])
redis.call('PEXPIRE', KEYS[3], 40 * 86400000)
redis.call('ZADD', KEYS[4], tonumber(ARGV[10]), ARGV[9])
redis.call('HSET', KEYS[5], ARGV[9], estimate)
redis.call('HINCRBY', KEYS[5], '=', estimate)
return {1, tostring(best), 0, rpm, day + 1, month + 1, inFlight + 1, used + estimate}
`;

/**
 * Pacing only, for a createTask whose first key refused it.
 * KEYS: one window per candidate key. ARGV: now, member, then one allowance per key.
 * Returns { index (1-based) or 0, retryAfterMs }.
 */
export const PICK_KEY = `${CHOOSE_KEY}
local now = tonumber(ARGV[1])
local best, soonest = chooseKey(now, 0, 2, #KEYS)
if best == 0 then return {0, soonest} end
redis.call('ZADD', KEYS[best], now, ARGV[2])
redis.call('PEXPIRE', KEYS[best], 20000)
return {best, 0}
`;

/**
 * The task was not created: give back its slot, reservation and counts, once.
 * KEYS: slots, reserved, day, month. ARGV: slotId.
 */
export const RELEASE = `${FREE_RESERVATION}
if redis.call('ZREM', KEYS[1], ARGV[1]) == 1 then
  freeReservation(KEYS[2], ARGV[1])
  if tonumber(redis.call('GET', KEYS[3]) or '0') > 0 then redis.call('DECR', KEYS[3]) end
  if tonumber(redis.call('GET', KEYS[4]) or '0') > 0 then redis.call('DECR', KEYS[4]) end
  return 1
end
return 0
`;

/**
 * The task is final: free its slot and reservation and add its cost to the month.
 * KEYS: slots, reserved, spent. ARGV: slotId, micros.
 */
export const SETTLE = `${FREE_RESERVATION}
redis.call('ZREM', KEYS[1], ARGV[1])
freeReservation(KEYS[2], ARGV[1])
redis.call('INCRBY', KEYS[3], tonumber(ARGV[2]))
redis.call('PEXPIRE', KEYS[3], 40 * 86400000)
return 1
`;

/**
 * Rebuilds a tenant's counters from the ledger once per Redis lifetime (after a restart Redis
 * holds nothing): only the first instance to get here writes them; later calls change nothing.
 * KEYS: seeded, day, month, slots, reserved, spent.
 * ARGV: dayCount, monthCount, spentMicros, then slotId, expiresAt, reservedMicros per open task.
 */
export const SEED = `
if redis.call('SET', KEYS[1], '1', 'NX') == false then return 0 end
redis.call('SET', KEYS[2], ARGV[1], 'PX', 2 * 86400000)
redis.call('SET', KEYS[3], ARGV[2], 'PX', 40 * 86400000)
redis.call('SET', KEYS[6], ARGV[3], 'PX', 40 * 86400000)
redis.call('DEL', KEYS[4], KEYS[5])
for i = 4, #ARGV, 3 do
  redis.call('ZADD', KEYS[4], tonumber(ARGV[i + 1]), ARGV[i])
  redis.call('HSET', KEYS[5], ARGV[i], ARGV[i + 2])
  redis.call('HINCRBY', KEYS[5], '=', tonumber(ARGV[i + 2]))
end
return 1
`;

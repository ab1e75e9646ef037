// The Lua scripts of the Redis backend. Each runs atomically inside Redis, so an admission is one
// round trip that checks every limit and, only when all allow it, counts the call, the task, the
// slot, the reservation and the chosen key together: no read-modify-write race between instances.
//
// Why not rate-limiter-flexible: its limiters each count one limit per call, and combining them
// (RateLimiterUnion) costs a round trip per limit and consumes points from the limits that
// allowed a call even when another refused it. Five tenant limits, leases, budget reservations
// and key pacing, all-or-nothing, in one round trip, need one script.
//
// An admission whose answer never came (ioredis gave up after commandTimeoutMs) may still run in
// Redis afterwards. So every admission is named (a task's slot id, a call's own id), and UNDO,
// sent when the outcome is unknown, gives back whatever that admission counted and leaves a mark
// that makes the admission count nothing should it run after the undo. Both orders end the same.
import { CALL_LIMITS, LIMIT_NAMES, LIMITS, limitCount, TASK_LIMITS, type LimitName, type LimitValues } from './limits.js';
import { CALL_WINDOW_MS, DAY_MS, PACE_WINDOW_MS } from './windows.js';

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
    redis.call('ZREMRANGEBYSCORE', window, '-inf', now - ${PACE_WINDOW_MS})
    local left = tonumber(ARGV[argsAt + i]) - redis.call('ZCARD', window)
    if left > bestLeft then
      best, bestLeft = i, left
    elseif left <= 0 then
      local oldest = redis.call('ZRANGE', window, 0, 0, 'WITHSCORES')
      if oldest[2] then
        local wait = tonumber(oldest[2]) + ${PACE_WINDOW_MS} - now
        if soonest < 0 or wait < soonest then soonest = wait end
      end
    end
  end
  if soonest < 0 then soonest = ${PACE_WINDOW_MS} end
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

/** Gives back a slot that is still held: its reservation and its day and month count (1), else 0. */
const RELEASE_SLOT = `${FREE_RESERVATION}
local function releaseSlot(slots, reserved, day, month, slotId)
  if redis.call('ZREM', slots, slotId) == 0 then return 0 end
  freeReservation(reserved, slotId)
  if tonumber(redis.call('GET', day) or '0') > 0 then redis.call('DECR', day) end
  if tonumber(redis.call('GET', month) or '0') > 0 then redis.call('DECR', month) end
  return 1
end
`;

/** ADMIT's fixed arguments; the limits follow them, then the allowances. */
const FIXED_ARGS = 6;
/** Where a limit's value is in ADMIT's ARGV (1-based): after the fixed arguments, in catalogue order. */
const argOf = (name: LimitName) => FIXED_ARGS + 1 + LIMIT_NAMES.indexOf(name);
/** The allowances of the candidate keys follow the limits (chooseKey's argsAt). */
const ALLOWANCES_AT = FIXED_ARGS + LIMIT_NAMES.length;

/** The arguments of ADMIT, in order (redis.ts passes them; the script reads them by position). */
export function admitArgs(
  now: number,
  quotas: LimitValues,
  task: { estimateMicros: number; id: string; expiresAt: number; allowances: number[] } | { id: string },
): (number | string)[] {
  const isTask = 'allowances' in task;
  return [
    now,
    isTask ? 1 : 0,
    isTask ? task.estimateMicros : 0,
    task.id,
    isTask ? task.expiresAt : 0,
    isTask ? task.allowances.length : 0,
    ...LIMIT_NAMES.map((name) => limitCount(name, quotas) ?? -1),
    ...(isTask ? task.allowances : []),
  ];
}

/** A Lua table of limits: { name, ARGV index, counter, adds the estimate }, in catalogue order. */
const luaLimits = (names: LimitName[]) =>
  `{${names.map((name) => `{'${name}', ${argOf(name)}, '${LIMITS[name].counter}', ${LIMITS[name].adds === 'estimate'}}`).join(', ')}}`;

/**
 * KEYS: calls (zset call id → time: the calls let through in the last 60 s), day, month,
 *       slots (zset slot → expiry), reserved (hash slot → micros, and their sum in the field '='),
 *       spent, seeded (the tenant's counters were rebuilt from the ledger since this Redis
 *       started), undone (the mark UNDO leaves for this admission's id),
 *       then one pacing window (zset) per candidate key.
 * ARGV: admitArgs: now, isTask, estimateMicros, id (the slot id of a task, else the call's own),
 *       expiresAt, keyCount, then one value per limit of the catalogue (limits.ts, in its order,
 *       in the counter's unit; -1 is off), then one allowance per candidate key.
 * Returns { status, detail, paceWaitMs, calls, oldestCall, day, month, inFlight, micros,
 *           firstLeaseEnd }, the counts as they are after this admission:
 *   status 1 ok (detail = index of the chosen key, 1-based, or 0), 0 refused (detail = limit;
 *   firstLeaseEnd for a task's), 2 paced (no key has allowance left), 3 not seeded: this
 *   Redis lost (or never had) the tenant's counters; rebuild them from the ledger (SEED) and admit
 *   again, 4 undone: this id was given up. Nothing is counted for 3 and 4.
 * A call refused by a call limit is not logged, so the window holds at most that many calls.
 */
export const ADMIT = `${CHOOSE_KEY}${FREE_RESERVATION}
local CALL_LIMITS = ${luaLimits(CALL_LIMITS)}
local TASK_LIMITS = ${luaLimits(TASK_LIMITS)}
local now = tonumber(ARGV[1])
local isTask = ARGV[2] == '1'
local estimate = tonumber(ARGV[3])
local id = ARGV[4]
if redis.call('EXISTS', KEYS[8]) == 1 then return {4, 'undone', 0, 0, 0, 0, 0, 0, 0, 0} end
if isTask and redis.call('EXISTS', KEYS[7]) == 0 then return {3, 'seed', 0, 0, 0, 0, 0, 0, 0, 0} end

local counters = {calls = 0, day = 0, month = 0, inFlight = 0, micros = 0}
if isTask then
  -- The reservations hash keeps their sum in the field '=', so no admission scans them all.
  local expired = redis.call('ZRANGEBYSCORE', KEYS[4], '-inf', now)
  for i = 1, #expired do freeReservation(KEYS[5], expired[i]) end
  if #expired > 0 then redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', now) end
  counters.day = tonumber(redis.call('GET', KEYS[2]) or '0')
  counters.month = tonumber(redis.call('GET', KEYS[3]) or '0')
  counters.inFlight = redis.call('ZCARD', KEYS[4])
  counters.micros = tonumber(redis.call('GET', KEYS[6]) or '0') + tonumber(redis.call('HGET', KEYS[5], '=') or '0')
end

local oldest = 0
local function answer(status, detail, wait, lease)
  return {status, detail, wait, counters.calls, oldest, counters.day, counters.month, counters.inFlight, counters.micros, lease}
end
-- The first limit of the list that this admission would take past its value, else nil.
local function exceeded(limits)
  for _, limit in ipairs(limits) do
    local max = tonumber(ARGV[limit[2]])
    local adds = limit[4] and estimate or 1
    if max >= 0 and counters[limit[3]] + adds > max then return limit[1] end
  end
  return nil
end

local callsCounted = false
for _, limit in ipairs(CALL_LIMITS) do
  if tonumber(ARGV[limit[2]]) >= 0 then callsCounted = true end
end
if callsCounted then
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - ${CALL_WINDOW_MS})
  counters.calls = redis.call('ZCARD', KEYS[1])
  if counters.calls > 0 then oldest = tonumber(redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')[2]) end
  local refused = exceeded(CALL_LIMITS)
  if refused then return answer(0, refused, 0, 0) end
  redis.call('ZADD', KEYS[1], now, id)
  redis.call('PEXPIRE', KEYS[1], ${CALL_WINDOW_MS})
  counters.calls = counters.calls + 1
  if counters.calls == 1 then oldest = now end
end
if not isTask then return answer(1, '0', 0, 0) end

local refused = exceeded(TASK_LIMITS)
if refused then
  local first = redis.call('ZRANGE', KEYS[4], 0, 0, 'WITHSCORES')
  return answer(0, refused, 0, tonumber(first[2] or '0'))
end

local keyCount = tonumber(ARGV[6])
local best, soonest = chooseKey(now, 8, ${ALLOWANCES_AT}, keyCount)
if keyCount > 0 and best == 0 then return answer(2, 'paced', soonest, 0) end

if best > 0 then
  redis.call('ZADD', KEYS[8 + best], now, id)
  redis.call('PEXPIRE', KEYS[8 + best], ${2 * PACE_WINDOW_MS})
end
redis.call('INCR', KEYS[2])
redis.call('PEXPIRE', KEYS[2], ${2 * DAY_MS})
redis.call('INCR', KEYS[3])
redis.call('PEXPIRE', KEYS[3], ${40 * DAY_MS})
redis.call('ZADD', KEYS[4], tonumber(ARGV[5]), id)
redis.call('HSET', KEYS[5], id, estimate)
redis.call('HINCRBY', KEYS[5], '=', estimate)
counters.day, counters.month, counters.inFlight = counters.day + 1, counters.month + 1, counters.inFlight + 1
counters.micros = counters.micros + estimate
return answer(1, tostring(best), 0, 0)
`;

/**
 * An admission whose outcome is unknown: gives back whatever it counted (its call, its slot with
 * reservation and day/month count, its pacing mark) and marks its id so that, should the
 * admission run later, it counts nothing. Safe to run more than once.
 * KEYS: undone, calls, slots, reserved, day, month, then the pacing windows of its candidate keys.
 * ARGV: id, how long the mark lasts (ms).
 */
export const UNDO = `${RELEASE_SLOT}
redis.call('SET', KEYS[1], '1', 'PX', tonumber(ARGV[2]))
redis.call('ZREM', KEYS[2], ARGV[1])
releaseSlot(KEYS[3], KEYS[4], KEYS[5], KEYS[6], ARGV[1])
for i = 7, #KEYS do redis.call('ZREM', KEYS[i], ARGV[1]) end
return 1
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
redis.call('PEXPIRE', KEYS[best], ${2 * PACE_WINDOW_MS})
return {best, 0}
`;

/**
 * The task was not created: give back its slot, reservation and counts, once.
 * KEYS: slots, reserved, day, month. ARGV: slotId.
 */
export const RELEASE = `${RELEASE_SLOT}
return releaseSlot(KEYS[1], KEYS[2], KEYS[3], KEYS[4], ARGV[1])
`;

/**
 * The task is final: free its slot and reservation and add its cost to the month. With
 * onlyIfHeld '1' (a retry of a settle that may have run already) the cost is added only when the
 * slot was still held, so a retry never adds it twice.
 * KEYS: slots, reserved, spent. ARGV: slotId, micros, onlyIfHeld.
 */
export const SETTLE = `${FREE_RESERVATION}
local held = redis.call('ZREM', KEYS[1], ARGV[1]) == 1
freeReservation(KEYS[2], ARGV[1])
if ARGV[3] == '1' and not held then return 0 end
redis.call('INCRBY', KEYS[3], tonumber(ARGV[2]))
redis.call('PEXPIRE', KEYS[3], ${40 * DAY_MS})
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
redis.call('SET', KEYS[2], ARGV[1], 'PX', ${2 * DAY_MS})
redis.call('SET', KEYS[3], ARGV[2], 'PX', ${40 * DAY_MS})
redis.call('SET', KEYS[6], ARGV[3], 'PX', ${40 * DAY_MS})
redis.call('DEL', KEYS[4], KEYS[5])
for i = 4, #ARGV, 3 do
  redis.call('ZADD', KEYS[4], tonumber(ARGV[i + 1]), ARGV[i])
  redis.call('HSET', KEYS[5], ARGV[i], ARGV[i + 2])
  redis.call('HINCRBY', KEYS[5], '=', tonumber(ARGV[i + 2]))
end
return 1
`;

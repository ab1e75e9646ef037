// The one catalogue of a tenant's quota limits. Everything else is derived from it: the config
// schema (config/schema.ts), the RateLimit headers and Retry-After (remaining.ts), the checks of
// the in-memory backend (local.ts), the Lua script's arguments and checks (redis.ts, scripts.ts),
// the per-instance shares of fail-open (fail-open.ts) and the refusal's words (gateway/quota.ts).
// Adding a kind of quota is one entry here (and a counter in remaining.ts Usage if it counts
// something new): see CONTRIBUTING.md.
import { z } from 'zod';
import { MICROS_PER_USD, usdToMicros } from '../pricing/money.js';

/**
 * How a limit's count resets: `minute` is a sliding 60 s window (requestsPerMinute), `day` and
 * `month` are calendar windows in UTC, `lease` frees as tasks end (or their lease runs out).
 */
export type LimitWindow = 'minute' | 'day' | 'month' | 'lease';

/** What a backend counts, per tenant (remaining.ts Usage has one field each). */
export type LimitCounter = 'calls' | 'day' | 'month' | 'inFlight' | 'micros';

type LimitSpec = {
  window: LimitWindow;
  /** What one admission adds to the counter: 1, or the task's estimate (micro-dollars). */
  adds: 'one' | 'estimate';
  /** `money` refusals are 402 (a budget), `count` ones 429. */
  kind: 'count' | 'money';
  /** In the refusal's words: "Quota exceeded: 100 tasks per day". */
  what: string;
  /** The config's value (USD for money) → the counter's integer unit (micro-dollars). */
  toCount(value: number): number;
  /** The counter's unit → the config's (the inverse of toCount). */
  fromCount(count: number): number;
  /** The counter's unit → the RateLimit header's integer unit (US cents for money). */
  toHeader(count: number): number;
  /** The config key: its type and its description (the generated config reference). */
  schema: z.ZodOptional<z.ZodNumber>;
} /** `call`: every API call of the tenant, counted in the sliding window of calls. */ & (
  | { scope: 'call'; counter: 'calls' }
  /** `task`: a createTask only. */
  | { scope: 'task'; counter: Exclude<LimitCounter, 'calls'> }
);

const same = (n: number) => n;
const count = (describe: string) => z.number().int().positive().optional().describe(describe);
/** RateLimit fields carry integers: a budget is shown in whole US cents, rounded down. */
const cents = (micros: number) => Math.floor(micros / 10_000);

/** The limits, in the order every backend checks them (the first one reached refuses) and the headers list them. */
export const LIMITS = {
  requestsPerMinute: {
    scope: 'call',
    window: 'minute',
    counter: 'calls',
    adds: 'one',
    kind: 'count',
    what: 'requests per minute',
    toCount: same,
    fromCount: same,
    toHeader: same,
    schema: count(
      'Every authenticated API call of the tenant (createTask, recordInfo), whatever its answer (an invalid body too), in any 60 s: a sliding window, not a calendar minute. A call this limit refuses is not counted, so a caller that waits its Retry-After gets back in.',
    ),
  },
  tasksPerDay: {
    scope: 'task',
    window: 'day',
    counter: 'day',
    adds: 'one',
    kind: 'count',
    what: 'tasks per day',
    toCount: same,
    fromCount: same,
    toHeader: same,
    schema: count('Tasks created per UTC day.'),
  },
  tasksPerMonth: {
    scope: 'task',
    window: 'month',
    counter: 'month',
    adds: 'one',
    kind: 'count',
    what: 'tasks per month',
    toCount: same,
    fromCount: same,
    toHeader: same,
    schema: count('Tasks created per calendar month (UTC).'),
  },
  maxInFlight: {
    scope: 'task',
    window: 'lease',
    counter: 'inFlight',
    adds: 'one',
    kind: 'count',
    what: 'tasks in flight',
    toCount: same,
    fromCount: same,
    toHeader: same,
    schema: count('Tasks created and not final yet.'),
  },
  budgetUsdPerMonth: {
    scope: 'task',
    window: 'month',
    counter: 'micros',
    adds: 'estimate',
    kind: 'money',
    what: 'USD per month',
    toCount: usdToMicros,
    fromCount: (micros) => micros / MICROS_PER_USD,
    toHeader: cents,
    schema: z.number().positive().optional().describe('USD per calendar month (UTC): spent plus reserved by tasks in flight.'),
  },
} as const satisfies Record<string, LimitSpec>;

export type LimitName = keyof typeof LIMITS;
/** The limits that count calls or tasks (not money). */
export type CountLimit = { [K in LimitName]: (typeof LIMITS)[K]['kind'] extends 'count' ? K : never }[LimitName];

/** Whether a limit counts calls or tasks (its refusal is a 429), rather than money (a 402). */
export const isCountLimit = (name: LimitName): name is CountLimit => LIMITS[name].kind === 'count';

/** Every limit, in catalogue order. */
export const LIMIT_NAMES = Object.keys(LIMITS) as LimitName[];
/** The limits of every call (checked before a task's). */
export const CALL_LIMITS = LIMIT_NAMES.filter((name) => LIMITS[name].scope === 'call');
/** The limits of a createTask, in the order they are checked. */
export const TASK_LIMITS = LIMIT_NAMES.filter((name) => LIMITS[name].scope === 'task');

/** The config's `quotas` object's shape: one optional key per limit. */
export function limitSchemas(): { [K in LimitName]: (typeof LIMITS)[K]['schema'] } {
  return Object.fromEntries(LIMIT_NAMES.map((name) => [name, LIMITS[name].schema])) as { [K in LimitName]: (typeof LIMITS)[K]['schema'] };
}

/** A tenant's quotas, as the config and the admin API give them (absent = off). */
export type LimitValues = Partial<Record<LimitName, number>>;

/** A limit in its counter's unit, or undefined when the tenant has none. */
export function limitCount(name: LimitName, quotas: LimitValues): number | undefined {
  const value = quotas[name];
  return value == null ? undefined : LIMITS[name].toCount(value);
}

/**
 * Whether an admission that adds `adds` (1, or the estimate) to a counter that stands at `used`
 * goes past the limit. 0 is a limit too (fail-open shares may round down to it).
 */
export function exceeds(name: LimitName, quotas: LimitValues, used: number, estimateMicros: number): boolean {
  const limit = limitCount(name, quotas);
  if (limit === undefined) return false;
  return used + (LIMITS[name].adds === 'estimate' ? estimateMicros : 1) > limit;
}

// Redis round trips per admission, counted: N createTask through the Redis scenario's gateway
// (after the measured rounds, so its scripts are loaded and its tenant seeded, as in steady
// state) while MONITOR records what reaches Redis. Each command the gateway sent is sorted by
// what it was for: the admission (the ADMIT script; SEED too when Redis had lost the tenant's
// counters), the settle when the provider's callback ends the task (the SETTLE script; the
// simulator ends image tasks at once, so every createTask brings one), and anything else
// (RELEASE, PICK_KEY, PING, …), listed by name. The window stays open until the provider's
// callback of every task created is accounted for (5 s at most), so each settle is counted with
// the createTask that caused it: an accepted callback by its settle, a refused one by the
// gateway's /metrics (refusals are counted there by status). A refused callback (404: it came
// before the task was stored; the provider does not resend) settles nothing, and its task is
// settled later, by a poll: the figure says how many were refused rather than wait for those.
import { rawRequest, runLoad } from '../load.js';
import type { ScenarioTarget } from '../scenarios/types.js';
import { CREATE_BODY } from '../scenarios/workload.js';
import type { Settings } from '../settings.js';
import { monitorRedis, type SeenCommand } from './redis-monitor.js';

const CONNECTIONS = 4;
// A ceiling, not a pace: the wait ends as soon as every callback is accounted for, and a loaded
// machine (the tests run this beside everything else) may need far longer than a quiet one.
const SETTLE_WAIT_MS = 120_000;

export interface RoundTripFigure {
  /** createTask sent in the window (each one admission), and those not answered 200. */
  createTasks: number;
  errors: number;
  /** Every command the gateway sent in the window, by name (script calls by script: `evalsha admit`). */
  sent: Record<string, number>;
  /** Round trips per createTask, by what they were for. */
  perCreateTask: { admission: number; settle: number; other: number; total: number };
  /** Commands the scripts ran inside Redis, per createTask: work done in the one round trip, not round trips. */
  insideScriptsPerCreateTask: number;
  /** Commands other clients sent meanwhile (a shared REDIS_URL), left out. */
  otherClients: number;
  /** The provider's callbacks the gateway refused in the window, by HTTP status (from its /metrics). */
  refusedCallbacks: Record<string, number>;
}

export type RoundTripResult = RoundTripFigure | { skipped: string };

const ADMISSION = /^eval(sha)? (admit|seed)$/;
const SETTLE = /^eval(sha)? settle$/;
const CALLBACK_ANSWERS = /^lxg_requests_total\{route="\/callbacks\/liangxin\/:token",code="(\d+)"[^}]*\} (\d+)/gm;

/** The provider's callbacks refused so far, by status: the gateway's own request counter. */
async function refusedCallbacks(url: string): Promise<Record<string, number>> {
  const metrics = await (await fetch(`${url}/metrics`)).text();
  return Object.fromEntries([...metrics.matchAll(CALLBACK_ANSWERS)].filter((m) => m[1] !== '200').map((m) => [m[1]!, Number(m[2])]));
}

const minus = (after: Record<string, number>, before: Record<string, number>) =>
  Object.fromEntries(
    Object.entries(after)
      .map(([code, n]) => [code, n - (before[code] ?? 0)])
      .filter(([, n]) => n !== 0),
  );
const sum = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);

export async function measureRedisRoundTrips(target: ScenarioTarget | undefined, settings: Settings, skipped: string | undefined): Promise<RoundTripResult> {
  if (!target?.redis) return { skipped: skipped ?? 'no scenario runs the gateway on Redis' };
  const { url, prefix } = target.redis;
  const monitor = await monitorRedis(url).catch((error: unknown) => error as Error);
  if (monitor instanceof Error) return { skipped: `MONITOR refused by the Redis at ${new URL(url).host} (${monitor.message})` };
  try {
    const refusedBefore = await refusedCallbacks(target.url);
    const from = await monitor.sync();
    const raw = rawRequest('POST', target.url, '/api/v1/jobs/createTask', target.headers, CREATE_BODY);
    const load = await runLoad({ url: target.url, connections: CONNECTIONS, total: settings.roundTripTasks, request: () => raw });
    let window: SeenCommand[];
    let refused: Record<string, number>;
    for (const deadline = Date.now() + SETTLE_WAIT_MS; ; await new Promise((resolve) => setTimeout(resolve, 50))) {
      refused = minus(await refusedCallbacks(target.url), refusedBefore);
      window = monitor.commands.slice(from, await monitor.sync());
      const settled = window.filter((c) => c.source !== 'lua' && SETTLE.test(c.name)).length;
      if (settled + sum(refused) >= load.ok || Date.now() > deadline) break;
    }
    return { ...tally(window, prefix, load.ok + load.errors, load.errors), refusedCallbacks: refused };
  } finally {
    await monitor.stop();
  }
}

function tally(window: SeenCommand[], prefix: string, createTasks: number, errors: number): Omit<RoundTripFigure, 'refusedCallbacks'> {
  const ours = (c: SeenCommand) => c.args.some((arg) => arg.startsWith(`${prefix}:`));
  // The gateway's connections are those that sent a command on this run's keys.
  const gateway = new Set(window.filter((c) => c.source !== 'lua' && ours(c)).map((c) => c.source));
  const sent: Record<string, number> = {};
  let admission = 0;
  let settle = 0;
  let other = 0;
  let inside = 0;
  let otherClients = 0;
  for (const c of window) {
    if (c.source === 'lua') {
      if (ours(c)) inside += 1;
      continue;
    }
    if (!gateway.has(c.source)) {
      otherClients += 1;
      continue;
    }
    sent[c.name] = (sent[c.name] ?? 0) + 1;
    if (ADMISSION.test(c.name)) admission += 1;
    else if (SETTLE.test(c.name)) settle += 1;
    else other += 1;
  }
  const per = (n: number) => (createTasks > 0 ? n / createTasks : Number.NaN);
  return {
    createTasks,
    errors,
    sent,
    perCreateTask: { admission: per(admission), settle: per(settle), other: per(other), total: per(admission + settle + other) },
    insideScriptsPerCreateTask: per(inside),
    otherClients,
  };
}

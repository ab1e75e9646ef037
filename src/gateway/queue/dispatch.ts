// The dispatcher: sends queued tasks to the provider as key allowance frees, never past any
// key's allowance (the quota backend's pacing: shared by every instance through Redis), in
// weighted fair order across tenants (fair.ts), through send.ts like any createTask.
//
// At most once: a task is taken from the queue by changing it to `sending` in one statement
// (store.claimQueued), before anything is sent; no dispatcher, here or on another instance, can
// take it again. What the provider answers decides what follows:
//   created  → the row records the provider's id (as for a task sent at once);
//   refused, proving nothing was started (every key 401/402/403/433/429, paced, maintenance)
//            → back to `queued`, in its old place at the head of its tenant's queue;
//   refused, judged (400/422/505) → the task ends `fail` with the provider's code;
//   unknown (timeout, 5xx, this instance killed mid-send) → left `sending`: the provider's
//            callback (its URL names the task) or reconciliation at tasks.maxLifetimeMs ends it.
//
// Each key's units are spread evenly over its window (see nextAt). Woken by events (a task
// queued here, a send finished, the soonest time a key's allowance frees), and every queue.pollIntervalMs for what other instances queued or put back: it never
// spins. Tests drive it with `wake()` and `idle()` (the gateway exposes both).
import type { CreateTaskRequest } from '../../client/types.js';
import { QuotaUnavailableError } from '../../quota/types.js';
import { PACE_WINDOW_MS } from '../../quota/windows.js';
import type { TaskRow } from '../../store/types.js';
import { callbackUrlFor, newCallbackToken } from '../callbacks/inbound.js';
import type { GatewayContext } from '../context.js';
import type { GatewayError } from '../errors.js';
import { confirmSent } from '../tasks/create.js';
import { applyRecord } from '../tasks/records.js';
import { sendToProvider } from '../tasks/send.js';
import { QUEUED_EVENT } from './enqueue.js';
import { createFairPicker } from './fair.js';
import type { TenantQueueSettings } from './settings.js';

/** Refusals after which the task goes back to the queue: nothing was started, and it may go later. */
const REQUEUE = new Set(['no_key', 'paced', 'maintenance', 'quota_unavailable', 'aborted']);

export interface Dispatcher {
  /** Look for work now (after a clock moved in a test, or allowance known to be free). */
  wake(): void;
  /** Resolves when a round found nothing more to send now and no send is in flight. */
  idle(): Promise<void>;
  stop(): Promise<void>;
}

export function startDispatcher(ctx: GatewayContext, settingsOf: (tenantId: string) => TenantQueueSettings): Dispatcher {
  const { concurrency, pollIntervalMs } = ctx.config.queue;
  const fair = createFairPicker((tenantId) => settingsOf(tenantId).weight);
  const sending = new Set<Promise<void>>();
  /** Tenants whose queue was found empty; an enqueue here (or the poll) makes them eligible again. */
  const empty = new Set<string>();
  let tenants: string[] = [];
  let tenantsReadAt = -Infinity;
  let stopped = false;
  let running: Promise<void> | undefined;
  let again = false;
  let paceTimer: NodeJS.Timeout | undefined;
  let idleWaiters: Array<() => void> = [];
  /**
   * Each key's units are spread over its window (one per 10 s / allowance) rather than spent as
   * fast as they free: a backlog otherwise takes a whole window's units at once, they all free
   * together 10 s later, and a light tenant's task that arrives in between waits the whole 10 s
   * however fair the order. Per instance; the shared pacing still bounds the sum.
   */
  const nextAt = new Map<string, number>();

  const onQueued = (tenantId: string) => {
    empty.delete(tenantId);
    wake();
  };
  ctx.events.on(QUEUED_EVENT, onQueued);
  const poll = setInterval(() => {
    empty.clear();
    tenantsReadAt = -Infinity;
    wake();
  }, pollIntervalMs);
  poll.unref();

  function wake(): void {
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    running = drain()
      .catch((error: unknown) => ctx.logger.error({ err: error }, 'dispatch: round failed'))
      .finally(() => {
        running = undefined;
        if (again && !stopped) {
          again = false;
          wake();
        } else settle();
      });
  }

  function settle(): void {
    if (running || sending.size > 0) return;
    const waiters = idleWaiters;
    idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  /** Every tenant that may have queued tasks (re-read from the store now and then). */
  async function knownTenants(): Promise<string[]> {
    const now = ctx.clock.now();
    if (now - tenantsReadAt >= pollIntervalMs || tenants.length === 0) {
      const fromStore = (await ctx.store.listTenants()).map((t) => t.id);
      tenants = [...new Set([...fromStore, ...ctx.config.tenants.map((t) => t.id)])];
      tenantsReadAt = now;
    }
    return tenants.filter((t) => !empty.has(t));
  }

  /** Whether the tenant's tasks at the provider are at its maxInFlight. */
  async function atInFlightLimit(tenantId: string): Promise<boolean> {
    const limit = (await ctx.store.getTenant(tenantId))?.quotas?.maxInFlight;
    return limit != null && (await ctx.store.countAtProvider(tenantId)) >= limit;
  }

  function waitForAllowance(ms: number): void {
    clearTimeout(paceTimer);
    paceTimer = setTimeout(wake, Math.max(1, ms));
    paceTimer.unref();
  }

  /** One round: as many tasks as there is allowance and concurrency for. */
  async function drain(): Promise<void> {
    while (!stopped && sending.size < concurrency) {
      const tenantId = await nextTenant();
      if (tenantId === undefined) return;
      const candidates = ctx.pool.candidates();
      if (candidates.keys.length === 0) return waitForAllowance(candidates.retryAfterMs);
      const now = ctx.clock.now();
      const spaced = candidates.keys.filter((k) => (nextAt.get(k.id) ?? -Infinity) <= now);
      if (spaced.length === 0) return waitForAllowance(Math.min(...candidates.keys.map((k) => nextAt.get(k.id)!)) - now);
      // A unit of allowance is taken only once a task is known to be waiting, and before the
      // task is (a task claimed and then paced would have to be written back). If another
      // instance takes that task in between, the unit goes unused.
      let pick;
      try {
        pick = await ctx.quota.pickKey(spaced, now);
      } catch (error) {
        if (error instanceof QuotaUnavailableError) return waitForAllowance(1000);
        throw error;
      }
      if (!pick.ok) return waitForAllowance(pick.retryAfterMs);
      const allowance = spaced.find((k) => k.id === pick.keyId)!.allowance;
      nextAt.set(pick.keyId, now + PACE_WINDOW_MS / allowance);
      const claimed = await claim(tenantId, pick.keyId);
      if (claimed) track(send(claimed.row, pick.keyId, claimed.token));
    }
  }

  /** The first tenant, in fair order, with a task waiting and room at the provider. */
  async function nextTenant(): Promise<string | undefined> {
    for (const tenantId of fair.order(await knownTenants())) {
      if (!(await ctx.store.hasQueued(tenantId))) {
        empty.add(tenantId);
        continue;
      }
      if (!(await atInFlightLimit(tenantId))) return tenantId;
    }
    return undefined;
  }

  async function claim(tenantId: string, keyId: string): Promise<{ row: TaskRow; token: string } | undefined> {
    const callback = newCallbackToken();
    const now = ctx.clock.now();
    // Where routing across several upstreams (the provider-seam issue) will choose the upstream
    // and key for this task's model; today one upstream, and the key the pacing chose.
    const row = await ctx.store.claimQueued(tenantId, { upstreamKeyId: keyId, callbackTokenHash: callback.hash, nextCheckAt: now + ctx.config.tasks.maxLifetimeMs });
    if (!row) {
      empty.add(tenantId);
      return undefined;
    }
    fair.served(tenantId);
    ctx.metrics.queueWaitSeconds.observe({ tenant: tenantId }, Math.max(0, now - (row.queuedAt ?? now)) / 1000);
    return { row, token: callback.token };
  }

  function track(work: Promise<void>): void {
    const done: Promise<void> = work
      .catch((error: unknown) => ctx.logger.error({ err: error }, 'dispatch: send failed'))
      .finally(() => {
        sending.delete(done);
        wake();
      });
    sending.add(done);
  }

  async function send(row: TaskRow, keyId: string, token: string): Promise<void> {
    const body = JSON.parse(row.upstreamBody ?? row.param ?? '{}') as CreateTaskRequest;
    const upstreamBody = { ...body, callBackUrl: callbackUrlFor(ctx.publicUrl(), row.taskId, token) } as CreateTaskRequest;
    const outcome = await sendToProvider(ctx, { gatewayTaskId: row.taskId, keyId, upstreamBody }, { aborted: () => stopped });
    if (outcome.kind === 'created') {
      ctx.metrics.dispatched.inc({ key: outcome.keyId, outcome: 'created' });
      await confirmSent(ctx, row.tenantId, row.taskId, outcome).catch(() => undefined);
      return;
    }
    if (outcome.kind === 'unknown') {
      ctx.metrics.dispatched.inc({ key: keyId, outcome: 'unknown' });
      ctx.logger.warn({ taskId: row.taskId, tenantId: row.tenantId }, 'dispatch: outcome unknown; not resent (the callback or reconciliation settles it)');
      return;
    }
    if (REQUEUE.has(outcome.error.reason)) {
      ctx.metrics.dispatched.inc({ key: keyId, outcome: 'requeued' });
      await ctx.store.requeueTask(row.taskId);
      ctx.events.emit(QUEUED_EVENT, row.tenantId);
      if (outcome.error.retryAfterSeconds) waitForAllowance(outcome.error.retryAfterSeconds * 1000);
      return;
    }
    ctx.metrics.dispatched.inc({ key: keyId, outcome: 'refused' });
    await refused(row, outcome.error);
  }

  /** The provider judged the task and refused it: it ends `fail` with the provider's code. */
  async function refused(row: TaskRow, error: GatewayError): Promise<void> {
    const now = ctx.clock.now();
    const sent = { ...row, state: 'sending' as const };
    await applyRecord(ctx, sent, {
      taskId: row.taskId,
      model: row.model,
      state: 'fail',
      param: row.param ?? '',
      resultJson: '',
      failCode: String(error.code),
      failMsg: error.msg,
      costTime: null,
      completeTime: now,
      createTime: row.createdAt,
      updateTime: now,
    });
  }

  return {
    wake,
    idle() {
      return new Promise<void>((resolve) => {
        idleWaiters.push(resolve);
        wake();
      });
    },
    async stop() {
      stopped = true;
      clearInterval(poll);
      clearTimeout(paceTimer);
      ctx.events.off(QUEUED_EVENT, onQueued);
      await running;
      await Promise.all([...sending]);
      settle();
    },
  };
}

// The dispatcher: sends queued tasks to the provider as key allowance frees, never past any
// key's allowance (the quota backend's pacing: shared by every instance through Redis), in
// weighted fair order across tenants (fair.ts), through send.ts like any createTask. Each task is
// routed as a createTask sent at once would be (route.ts: its model's upstreams, their keys, each
// key's spacing and pace), so a model served by several upstreams drains at their combined
// allowance, and send.ts fails it over to the next upstream when one refuses it starting nothing.
//
// At most once: a task is taken from the queue by changing it to `sending` in one statement
// (store.claimQueued), before anything is sent; no dispatcher, here or on another instance, can
// take it again. The same statement keeps the tenant's maxInFlight: it takes nothing when that
// many of the tenant's tasks are at the provider, counted under a per-tenant lock on PostgreSQL,
// so instances together never exceed it. What the provider answers decides what follows:
//   created  → the row records the provider's id (as for a task sent at once);
//   refused, proving nothing was started (every key 401/402/403/433/429, paced, maintenance)
//            → back to `queued`, in its old place at the head of its tenant's queue;
//   refused, judged (400/422/505) → the task ends `fail` with the provider's code;
//   unknown (timeout, 5xx, this instance killed mid-send) → left `sending`: the provider's
//            callback (its URL names the task) or reconciliation at tasks.maxLifetimeMs ends it.
//
// Woken by events (a task queued here, a send finished, the soonest time a key's allowance
// frees), and every queue.pollIntervalMs for what other instances queued or put back: it never
// spins. Tests drive it with `wake()` and `idle()` (the gateway exposes both).
import type { CreateTaskRequest } from '../../client/types.js';
import type { TaskRow } from '../../store/types.js';
import { callbackUrlFor, newCallbackToken } from '../callbacks/inbound.js';
import type { GatewayContext } from '../context.js';
import type { GatewayError } from '../errors.js';
import { confirmSent } from '../tasks/create.js';
import { applyRecord } from '../tasks/records.js';
import { sendToProvider, type SendOutcome } from '../tasks/send.js';
import { QUEUED_EVENT } from './enqueue.js';
import { createFairPicker } from './fair.js';
import { createQueueRouter, type Route } from './route.js';

/** Refusals after which the task goes back to the queue: nothing was started, and it may go later. */
const REQUEUE = new Set(['no_key', 'paced', 'maintenance', 'quota_unavailable', 'aborted']);

export interface Dispatcher {
  /** Look for work now (after a clock moved in a test, or allowance known to be free). */
  wake(): void;
  /** Resolves when a round found nothing more to send now and no send is in flight. */
  idle(): Promise<void>;
  stop(): Promise<void>;
}

export function startDispatcher(ctx: GatewayContext): Dispatcher {
  // Read at start (its timer is set once); concurrency is read at each round.
  const { pollIntervalMs } = ctx.config.queue;
  /** Each tenant's weight, from its row as last read (knownTenants); an admin change shows at the next read. */
  const weights = new Map<string, number>();
  const fair = createFairPicker((tenantId) => weights.get(tenantId) ?? ctx.queueSettings(undefined).weight);
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
  const routes = createQueueRouter(ctx, pollIntervalMs);

  const onQueued = (tenantId: string) => {
    empty.delete(tenantId);
    // A tenant made since the last read (admin API): read the list again, and its settings with it.
    if (!tenants.includes(tenantId)) tenantsReadAt = -Infinity;
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
      const rows = await ctx.store.listTenants();
      weights.clear();
      for (const row of rows) weights.set(row.id, ctx.queueSettings(row.settings?.queue).weight);
      tenants = [...new Set([...rows.map((t) => t.id), ...ctx.config.tenants.map((t) => t.id)])];
      tenantsReadAt = now;
    }
    return tenants.filter((t) => !empty.has(t));
  }

  /**
   * The tenant's maxInFlight (undefined: none), or 'full' when its tasks at the provider are at it.
   * Only to pass a full tenant over; the claim counts again in its own statement (another instance
   * may have sent one since), and that count is the one that holds.
   */
  async function inFlightLimit(tenantId: string): Promise<number | undefined | 'full'> {
    const limit = (await ctx.store.getTenant(tenantId))?.quotas?.maxInFlight ?? undefined;
    return limit !== undefined && (await ctx.store.countAtProvider(tenantId)) >= limit ? 'full' : limit;
  }

  function waitForAllowance(ms: number): void {
    clearTimeout(paceTimer);
    paceTimer = setTimeout(wake, Math.max(1, ms));
    paceTimer.unref();
  }

  /** One round: as many tasks as there is allowance and concurrency for. */
  async function drain(): Promise<void> {
    // Read each round: a reload may change it.
    while (!stopped && sending.size < ctx.config.queue.concurrency) {
      const next = await nextSend();
      if (next.kind === 'idle') return;
      if (next.kind === 'wait') return waitForAllowance(next.ms);
      const claimed = await claim(next.tenantId, next.route, next.maxInFlight);
      if (claimed) track(send(claimed.row, next.route, claimed.token));
    }
  }

  /**
   * The first tenant, in fair order, with a task waiting, room at the provider and a key free for
   * its head's model; or how long until one may be (a tenant whose head's model has no key free
   * now is passed over, so one busy model does not hold up the others).
   */
  async function nextSend(): Promise<{ kind: 'send'; tenantId: string; route: Route; maxInFlight?: number } | { kind: 'wait'; ms: number } | { kind: 'idle' }> {
    const blocked = new Map<string, number>();
    for (const tenantId of fair.order(await knownTenants())) {
      const head = await ctx.store.queueHead(tenantId);
      if (!head) {
        empty.add(tenantId);
        continue;
      }
      if (blocked.has(head.model)) continue;
      const maxInFlight = await inFlightLimit(tenantId);
      if (maxInFlight === 'full') continue;
      const route = await routes.routeFor(head.model);
      if ('upstreamId' in route) return { kind: 'send', tenantId, route, ...(maxInFlight !== undefined && { maxInFlight }) };
      blocked.set(head.model, route.waitMs);
    }
    return blocked.size === 0 ? { kind: 'idle' } : { kind: 'wait', ms: Math.min(...blocked.values()) };
  }

  async function claim(tenantId: string, route: Route, maxInFlight: number | undefined): Promise<{ row: TaskRow; token: string } | undefined> {
    const callback = newCallbackToken();
    const now = ctx.clock.now();
    const row = await ctx.store.claimQueued(tenantId, {
      upstreamKeyId: route.keyId,
      upstreamId: route.upstreamId,
      callbackTokenHash: callback.hash,
      nextCheckAt: now + ctx.config.tasks.maxLifetimeMs,
      ...(maxInFlight !== undefined && { maxInFlight }),
    });
    // Nothing queued any more, or another instance filled the tenant's room first: looked at
    // again at the next enqueue here or the poll.
    if (!row) {
      empty.add(tenantId);
      return undefined;
    }
    // Another task than the head routed (one of higher priority arrived, or another instance
    // took the head) and of a model the chosen upstream does not serve: back in place, untouched.
    if (!ctx.upstreams.byId(route.upstreamId)?.serves(row.model)) {
      await ctx.store.requeueTask(row.taskId);
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

  async function send(row: TaskRow, route: Route, token: string): Promise<void> {
    const body = JSON.parse(row.upstreamBody ?? row.param ?? '{}') as CreateTaskRequest;
    const upstreamBody = { ...body, callBackUrl: callbackUrlFor(ctx.publicUrl(), row.taskId, token) } as CreateTaskRequest;
    const sending = { gatewayTaskId: row.taskId, upstreamId: route.upstreamId, keyId: route.keyId, upstreamBody };
    // The upstream calls join the trace of the createTask that accepted the task.
    const span = ctx.tracing.start('dispatch', {
      kind: 'internal',
      parent: row.traceParent,
      linkParent: true,
      attributes: { 'lxg.tenant': row.tenantId, 'lxg.gateway_task_id': row.taskId },
    });
    let outcome: SendOutcome;
    try {
      outcome = await ctx.tracing.within(span, () => sendToProvider(ctx, sending, { aborted: () => stopped }));
      span.set({ 'lxg.outcome': outcome.kind });
    } catch (error) {
      span.fail(error);
      throw error;
    } finally {
      span.end();
    }
    const labels = { upstream: route.upstreamId, key: route.keyId };
    if (outcome.kind === 'created') {
      ctx.metrics.dispatched.inc({ upstream: outcome.upstreamId, key: outcome.keyId, outcome: 'created' });
      await confirmSent(ctx, row.tenantId, row.taskId, outcome).catch(() => undefined);
      return;
    }
    if (outcome.kind === 'unknown') {
      ctx.metrics.dispatched.inc({ ...labels, outcome: 'unknown' });
      ctx.logger.warn({ taskId: row.taskId, tenantId: row.tenantId }, 'dispatch: outcome unknown; not resent (the callback or reconciliation settles it)');
      return;
    }
    if (REQUEUE.has(outcome.error.reason)) {
      ctx.metrics.dispatched.inc({ ...labels, outcome: 'requeued' });
      await ctx.store.requeueTask(row.taskId);
      ctx.events.emit(QUEUED_EVENT, row.tenantId);
      if (outcome.error.retryAfterSeconds) waitForAllowance(outcome.error.retryAfterSeconds * 1000);
      return;
    }
    ctx.metrics.dispatched.inc({ ...labels, outcome: 'refused' });
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

// The outbox worker: sends tenants' callbacks from the store. Any instance may run it: a
// delivery is leased before it is sent, so none is sent by two workers at once, and one whose
// worker died (kill -9) is taken again when its lease runs out. Each attempt is signed anew per
// Standard Webhooks with the tenant's secret (during a rotation's overlap with the previous one
// too: `webhook-signature` carries both, and receivers accept either); `webhook-id` stays the same across retries so
// tenants can dedupe. Retries follow the configured schedule (with jitter, never sooner than
// Retry-After, up to the schedule's longest wait); a 410 stops; after the last attempt the
// delivery is marked failed.
import { randomUUID } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { request, type Dispatcher } from 'undici';
import { parseRetryAfter } from '../../client/envelope.js';
import type { DeliveryRow } from '../../store/types.js';
import type { GatewayContext } from '../context.js';
import { startLeasedWorker } from '../workers/leased-worker.js';

export interface OutboxOptions {
  /** Tenant id → the Standard Webhooks secrets to sign with now (none: the delivery cannot be sent). */
  secretsOf(tenantId: string, now: number): Promise<string[]>;
  /** Sends only to addresses the SSRF guard allows, follows no redirect. */
  dispatcher: Dispatcher;
  /** Called for a URL that may not be reached at all (a permanent refusal). */
  isPermanentError?(error: unknown): boolean;
  random?: () => number;
}

const BATCH = 20;

type Outcome = Parameters<GatewayContext['store']['finishDelivery']>[2];

export function startOutbox(ctx: GatewayContext, options: OutboxOptions) {
  const owner = `outbox-${randomUUID()}`;
  const cfg = ctx.config.callbacks;
  const random = options.random ?? Math.random;
  const longestWait = Math.max(...cfg.retryScheduleMs);

  /**
   * Whole milliseconds until the next attempt: the store keeps integer times (a jittered fraction
   * once made PostgreSQL refuse the attempt's record). A receiver's Retry-After is honoured up to
   * the schedule's longest wait, so `Retry-After: 99999999999999999999` cannot park a delivery
   * for ever (nor overflow the column).
   */
  function nextWait(attempts: number, retryAfterMs: number | undefined): number | undefined {
    const base = cfg.retryScheduleMs[attempts - 1];
    if (base === undefined) return undefined; // the schedule is spent
    const jittered = Math.round(base * (0.8 + 0.4 * random()));
    return Math.max(jittered, Math.ceil(Math.min(retryAfterMs ?? 0, longestWait)));
  }

  /** Each attempt in the task's trace (ops/tracing.ts): a child of its createTask span, linked to it. */
  async function deliver(delivery: DeliveryRow): Promise<void> {
    const parent = ctx.tracing.enabled ? (await ctx.store.getTask(delivery.taskId))?.traceParent : undefined;
    const span = ctx.tracing.start('tenant delivery', {
      kind: 'client',
      parent,
      linkParent: true,
      attributes: { 'lxg.tenant': delivery.tenantId, 'lxg.task_id': delivery.taskId, 'lxg.delivery_id': delivery.id, 'lxg.attempt': delivery.attempts + 1 },
    });
    try {
      const outcome = await attempt(delivery);
      span.set({ 'lxg.delivery.state': outcome.state, ...(outcome.status != null && { 'http.response.status_code': outcome.status }) });
    } catch (error) {
      span.fail(error);
      throw error;
    } finally {
      span.end();
    }
  }

  async function attempt(delivery: DeliveryRow): Promise<Outcome> {
    const now = ctx.clock.now();
    const attempts = delivery.attempts + 1;
    let status: number | null = null;
    let error: string | null = null;
    let retryAfterMs: number | undefined;
    try {
      const secrets = await options.secretsOf(delivery.tenantId, now);
      if (secrets.length === 0) throw new Error('the tenant has no webhookSecret');
      const signature = secrets.map((secret) => new Webhook(secret).sign(delivery.id, new Date(now), delivery.payload)).join(' ');
      const response = await request(delivery.url, {
        method: 'POST',
        dispatcher: options.dispatcher,
        headers: {
          'content-type': 'application/json',
          'user-agent': 'liangxin-gateway',
          'webhook-id': delivery.id,
          'webhook-timestamp': String(Math.floor(now / 1000)),
          'webhook-signature': signature,
        },
        body: delivery.payload,
        headersTimeout: cfg.timeoutMs,
        bodyTimeout: cfg.timeoutMs,
      });
      await response.body.dump();
      status = response.statusCode;
      const header = response.headers['retry-after'];
      retryAfterMs = parseRetryAfter(Array.isArray(header) ? header[0]! : (header ?? null));
    } catch (failure) {
      error = (failure as Error).message;
      if (options.isPermanentError?.(failure)) {
        return finish(delivery, { state: 'failed', error, now });
      }
    }
    if (status !== null && status >= 200 && status < 300) {
      return finish(delivery, { state: 'delivered', status, now });
    } else if (status === 410) {
      return finish(delivery, { state: 'failed', status, error: 'the receiver answered 410 Gone', now });
    } else {
      const wait = nextWait(attempts, retryAfterMs);
      return finish(
        delivery,
        wait === undefined ? { state: 'failed', status, error, now } : { state: 'pending', nextAttemptAt: now + wait, status, error, now },
      );
    }
  }

  async function finish(delivery: DeliveryRow, outcome: Outcome): Promise<Outcome> {
    const applied = await ctx.store.finishDelivery(delivery.id, owner, outcome);
    ctx.metrics.tenantCallbacks.inc({ outcome: outcome.state });
    ctx.logger[outcome.state === 'failed' ? 'warn' : 'info'](
      {
        deliveryId: delivery.id,
        taskId: delivery.taskId,
        tenantId: delivery.tenantId,
        state: outcome.state,
        status: outcome.status ?? null,
        attempt: delivery.attempts + 1,
        applied,
      },
      'tenant callback attempt',
    );
    return outcome;
  }

  const worker = startLeasedWorker({
    name: 'outbox',
    claim: (limit) => ctx.store.claimDeliveries(owner, ctx.clock.now(), cfg.leaseMs, limit),
    work: deliver,
    describe: (d) => ({ deliveryId: d.id }),
    batch: BATCH,
    pollIntervalMs: cfg.pollIntervalMs,
    wakeOn: { events: ctx.events, event: 'delivery' },
    logger: ctx.logger,
  });
  return { owner, ...worker };
}

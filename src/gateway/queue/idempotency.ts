// Idempotency-Key on createTask (IETF httpapi draft "The Idempotency-Key HTTP Header Field"):
// the same key with the same body within 24 h gets the first answer again (the same task id;
// nothing new is queued, sent or charged); the same key with another body is refused 422; a
// request whose key is still being processed is refused 409. Keys are per tenant and live in the
// store under a unique (tenant, key), so they hold across instances and restarts. Only answers
// that accepted a task are kept: a refused request forgets its key, so the client may retry it.
import { createHash } from 'node:crypto';
import type { Principal } from '../auth.js';
import type { GatewayContext } from '../context.js';
import { refusal } from '../errors.js';
import type { Answer } from '../http/types.js';

export const IDEMPOTENCY_HEADER = 'idempotency-key';
/** How long a key's first answer is replayed. */
export const IDEMPOTENCY_TTL_MS = 24 * 3_600_000;
/** An unanswered key older than this belongs to a request that died with its instance. */
const ABANDONED_MS = 10 * 60_000;

function keyOf(header: string | string[] | undefined): string | undefined {
  if (header === undefined) return undefined;
  const key = (Array.isArray(header) ? header.join(',') : header).trim();
  // The draft's value is a structured-field string: "…"; a bare token is accepted too.
  const bare = key.startsWith('"') && key.endsWith('"') && key.length >= 2 ? key.slice(1, -1) : key;
  if (bare === '' || bare.length > 255 || !/^[\x21-\x7e]+$/.test(bare)) {
    const message = 'must be 1-255 visible ASCII characters';
    throw refusal('validation', `Invalid request: header Idempotency-Key ${message}`, {
      data: { errors: [{ path: 'header:Idempotency-Key', message, keyword: 'format' }], errorCount: 1 },
    });
  }
  return bare;
}

/** Runs `create` once per (tenant, key, body); answers replays, mismatches and races. */
export async function withIdempotency(
  ctx: GatewayContext,
  principal: Principal,
  header: string | string[] | undefined,
  body: unknown,
  create: () => Promise<Answer>,
): Promise<Answer> {
  const key = keyOf(header);
  if (key === undefined) return create();
  const now = ctx.clock.now();
  const bodyHash = createHash('sha256').update(JSON.stringify(body)).digest('hex');
  const { tenantId } = principal;
  const claim = await ctx.store.claimIdempotencyKey({
    tenantId,
    key,
    bodyHash,
    now,
    expiredBefore: now - IDEMPOTENCY_TTL_MS,
    abandonedBefore: now - ABANDONED_MS,
  });
  if (claim.kind === 'answered') {
    const replayed = JSON.parse(claim.answer) as { data?: { taskId?: string } };
    return { body: replayed, log: { taskId: replayed.data?.taskId } };
  }
  if (claim.kind === 'mismatch')
    throw refusal('idempotency_mismatch', 'Idempotency-Key was already used with a different request body', { data: { idempotencyKey: key } });
  if (claim.kind === 'in-flight')
    throw refusal('idempotency_in_flight', 'A request with this Idempotency-Key is still being processed; retry later', {
      retryAfterSeconds: 1,
      data: { idempotencyKey: key },
    });
  let answer: Answer;
  try {
    answer = await create();
  } catch (error) {
    await ctx.store.dropIdempotencyKey(tenantId, key).catch((e: unknown) => ctx.logger.warn({ err: e, tenantId }, 'idempotency: key not released'));
    throw error;
  }
  await ctx.store
    .saveIdempotentAnswer(tenantId, key, JSON.stringify(answer.body))
    .catch((e: unknown) => ctx.logger.warn({ err: e, tenantId }, 'idempotency: answer not kept'));
  return answer;
}

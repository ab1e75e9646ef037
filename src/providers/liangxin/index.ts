// LiangXin's unified task API as the gateway speaks it (openapi/liangxin.yaml): its endpoints and
// bearer auth, its body-code table (codes.ts), its records (validated against its contract), its
// cost rule (creditsConsumed × USD 0.005) and its callbacks (HMAC-signed when the account has a
// key). LiangXin's dialect is the gateway's canonical one, so a body passes through unchanged.
import { LiangxinWebhookError } from '../../client/errors.js';
import type { CallbackPayload, CreateTaskRequest, TaskRecord } from '../../client/types.js';
import { verifyWebhook } from '../../client/webhook.js';
import { creditsToMicros } from '../../pricing/money.js';
import type { SpecValidator } from '../../spec/validator.js';
import type { CallbackVerdict, CreateVerdict, Provider, ProviderAnswer, ReadVerdict } from '../types.js';
import { ruleOf } from './codes.js';

export const LIANGXIN = 'liangxin';
const CREATE_TASK = '/api/v1/jobs/createTask';
const RECORD_INFO = '/api/v1/jobs/recordInfo';

/** The signature error, typed: the receiver answers 401 naming its code. */
export class CallbackSignatureError extends Error {
  override readonly name = 'CallbackSignatureError';
  constructor(readonly code: string) {
    super(`callback signature refused (${code})`);
  }
}

/** The parts every dialect of this API family shares; a dialect passes its own validator and names. */
export interface FamilyOptions {
  name: string;
  /** The dialect's contract: records and callbacks are validated against it. */
  validator: SpecValidator;
  /** The dialect's model id → LiangXin's (records name the dialect's id). */
  toLiangxinModel(model: string): string;
}

export function readCreateAnswer(answer: ProviderAnswer): CreateVerdict {
  const taskId = (answer.data as { taskId?: unknown } | null)?.taskId;
  if (answer.code === 200 && typeof taskId === 'string' && taskId !== '') return { kind: 'created', taskId };
  const rule = ruleOf(answer.code === 200 ? 502 : answer.code); // a 200 without a task id proves nothing
  return { kind: 'not-created', rule, code: answer.code, msg: answer.msg, httpStatus: answer.httpStatus, retryAfterMs: answer.retryAfterMs };
}

/** Builds the record/callback/cost half of a provider of LiangXin's API family. */
export function familyParts(options: FamilyOptions): Pick<Provider, 'readRecord' | 'readCallback' | 'verifySignature' | 'costMicros'> {
  const inGatewayTerms = (record: TaskRecord): TaskRecord => {
    const model = options.toLiangxinModel(record.model);
    return model === record.model ? record : { ...record, model };
  };
  return {
    readRecord(answer: ProviderAnswer): ReadVerdict {
      if (answer.code === 200 && answer.data && typeof answer.data === 'object') {
        const checked = options.validator.validateSchema<TaskRecord>('TaskRecord', answer.data);
        if (checked.ok) return { kind: 'record', record: inGatewayTerms(checked.value) };
        return {
          kind: 'unavailable',
          reason: `the provider answered a record its contract refuses (${checked.errors[0]?.path ?? ''} ${checked.errors[0]?.message ?? ''})`,
          key: 'none',
          paced: false,
          retryAfterMs: undefined,
        };
      }
      // "recordInfo is null" (some docs say 404): not visible yet, or gone.
      if (answer.code === 422 || answer.code === 404) return { kind: 'not-visible' };
      const rule = ruleOf(answer.code);
      // Only what a read can prove: a refused key, a provider in maintenance. Pacing is the gateway's own.
      const key = rule.key === 'disabled' || rule.key === 'maintenance' ? rule.key : 'none';
      return {
        kind: 'unavailable',
        reason: `the provider answered ${answer.code} ${answer.msg}`,
        key,
        paced: rule.key === 'cooling',
        retryAfterMs: answer.retryAfterMs,
      };
    },
    readCallback(payload: unknown): CallbackVerdict {
      const checked = options.validator.validateSchema<CallbackPayload>('CallbackPayload', payload);
      if (!checked.ok) return { ok: false, why: 'not a callback payload' };
      return { ok: true, record: inGatewayTerms(checked.value.data as TaskRecord) };
    },
    verifySignature(payload, headers, hmacKey, { toleranceSeconds, now }) {
      try {
        verifyWebhook({ body: payload as CallbackPayload, headers, hmacKey, toleranceSeconds, now });
      } catch (error) {
        throw new CallbackSignatureError(error instanceof LiangxinWebhookError ? error.code : 'BAD_SIGNATURE');
      }
    },
    costMicros(record: TaskRecord): number | undefined {
      // The provider's unit: 1 credit = USD 0.005. A charge no column can hold is not believed.
      if (typeof record.creditsConsumed !== 'number' || record.creditsConsumed < 0) return undefined;
      const micros = creditsToMicros(record.creditsConsumed);
      return Number.isSafeInteger(micros) ? micros : undefined;
    },
  };
}

export function createLiangxinProvider(deps: { validator: SpecValidator }): Provider {
  const models = new Set(deps.validator.models);
  return {
    name: LIANGXIN,
    endpoints: { createTask: CREATE_TASK, recordInfo: (taskId) => `${RECORD_INFO}?taskId=${encodeURIComponent(taskId)}` },
    auth: (apiKey) => ({ authorization: `Bearer ${apiKey}` }),
    serves: (model) => models.has(model),
    translate: (body: CreateTaskRequest) => ({ ok: true, body }),
    readCreate: readCreateAnswer,
    ...familyParts({ name: LIANGXIN, validator: deps.validator, toLiangxinModel: (model) => model }),
  };
}

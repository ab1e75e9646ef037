// The validate step of a createTask: the public Market dialect's aliases resolved (the alias table,
// src/providers/market/), then LiangXin's contract, then the tenant's model allow-list. LiangXin's
// dialect is the canonical one: what is validated, priced, allowed and sent is LiangXin's body;
// what is recorded and shown back to the tenant is what the tenant sent (its model id, its body),
// so a public client reads back its own request.
import type { CreateTaskRequest } from '../client/types.js';
import type { AliasTable } from '../providers/market/aliases.js';
import { liangxinModelOf, translateMarketBody, type TranslationNotes } from '../providers/market/translate.js';
import type { FieldError, ValidationFailure } from '../spec/validator.js';
import type { Principal } from './auth.js';
import type { GatewayContext } from './context.js';
import { invalidRequest, refusal } from './errors.js';

export interface AcceptedTask {
  /** LiangXin's body: validated, priced and sent (with the gateway's callBackUrl). */
  upstream: CreateTaskRequest;
  /** The model id the tenant asked for: recorded, and shown back in its records. */
  model: string;
  /** The tenant's own body, JSON: its records' `param`. */
  param: string;
  /** `input` fields left out of what is sent (the alias table's drops). */
  dropped: string[];
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** A translated body's errors name LiangXin's model, and the tenant's field where it was renamed. */
function inLiangxinTerms(failed: ValidationFailure, model: string, notes: TranslationNotes): ValidationFailure {
  const from = new Map(notes.renamed.map((r) => [`input.${r.to}`, r.from]));
  const errors = failed.errors.map((e): FieldError => {
    const renamed = from.get(e.path);
    return { ...e, message: `${e.message} (LiangXin's ${model}${renamed ? `, from input.${renamed}` : ''})` };
  });
  return { ...failed, errors };
}

/** Whether an allow-list admits a LiangXin model; its entries may be either dialect's ids. */
export function allows(models: readonly string[], liangxinModel: string, table: AliasTable): boolean {
  return models.some((m) => liangxinModelOf(m, table) === liangxinModel);
}

export function acceptCreateTask(ctx: GatewayContext, principal: Principal, body: unknown): AcceptedTask {
  if (!isObject(body)) throw invalidRequest(ctx.validator.validateCreateTask(body) as ValidationFailure);
  const translated = translateMarketBody(body, ctx.aliases);
  if (!translated.ok) {
    throw invalidRequest({ ok: false, errors: [{ path: translated.path, message: translated.message, keyword: 'compat' }], errorCount: 1 });
  }
  const { notes } = translated;
  const checked = ctx.validator.validateCreateTask<CreateTaskRequest>(translated.body);
  if (!checked.ok) {
    const translatedAnything = notes.alias !== undefined || notes.renamed.length > 0 || notes.dropped.length > 0;
    throw invalidRequest(translatedAnything ? inLiangxinTerms(checked, translated.model, notes) : checked);
  }
  const model = checked.value.model;
  if (principal.models && !allows(principal.models, model, ctx.aliases)) {
    const asked = notes.alias ? `${notes.alias} (LiangXin's ${model})` : model;
    throw refusal('model_not_allowed', `Model ${asked} is not enabled for this tenant`, { data: { allowed: principal.models } });
  }
  return { upstream: checked.value, model: notes.alias ?? model, param: JSON.stringify(body), dropped: notes.dropped };
}

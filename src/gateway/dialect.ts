// The validate step of a createTask: the public Market dialect's aliases resolved (the alias table,
// src/providers/market/), then LiangXin's contract, then the tenant's model allow-list. LiangXin's
// dialect is the canonical one: what is validated, priced, allowed and sent is LiangXin's body;
// what is recorded and shown back to the tenant is what the tenant sent (its model id, its body),
// so a public client reads back its own request.
import type { CreateTaskRequest } from '../client/types.js';
import type { AliasTable } from '../providers/market/aliases.js';
import { liangxinModelOf, translateMarketBody, type TranslationNotes } from '../providers/market/translate.js';
import { loadLiangxinSpec, modelInputFields, type SpecDocument } from '../spec/document.js';
import type { FieldError, ValidationFailure } from '../spec/validator.js';
import type { Principal } from './auth.js';
import type { GatewayContext } from './context.js';
import { invalidField, invalidRequest, refusal } from './errors.js';

export interface AcceptedTask {
  /** LiangXin's body: validated, priced and sent (with the gateway's callBackUrl). */
  upstream: CreateTaskRequest;
  /** The model id the tenant asked for: recorded, and shown back in its records. */
  model: string;
  /** The tenant's own body, JSON: its records' `param`. */
  param: string;
  /** `input` fields left out of what is sent (the alias table's drops, `unknownFields: drop`). */
  dropped: string[];
}

/** The response header that names them. */
export const DROPPED_FIELDS_HEADER = 'X-LiangXin-Dropped-Fields';

const knownFieldsCache = new WeakMap<SpecDocument, Map<string, Set<string>>>();

/** model → the `input` fields its schema names (across alternatives, e.g. Kling's two inputs). */
function knownFields(doc: SpecDocument = loadLiangxinSpec()): Map<string, Set<string>> {
  let known = knownFieldsCache.get(doc);
  if (!known) {
    known = modelInputFields(doc);
    knownFieldsCache.set(doc, known);
  }
  return known;
}

/** The body without the input fields its model does not know, and those fields; none for an unknown model. */
function splitUnknown(body: Record<string, unknown>): { known: Record<string, unknown>; unknown: Record<string, unknown> } {
  const fields = typeof body.model === 'string' ? knownFields().get(body.model) : undefined;
  if (!fields || !isObject(body.input)) return { known: body, unknown: {} };
  const input: Record<string, unknown> = {};
  const unknown: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(body.input)) (fields.has(name) ? input : unknown)[name] = value;
  return { known: { ...body, input }, unknown };
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
    throw invalidField({ path: translated.path, message: translated.message, keyword: 'compat' });
  }
  const { notes } = translated;
  // reject: validation names them (400). drop: left out, and named in a header. forward: checked
  // without them, then sent on as they are (the provider may refuse them).
  const mode = principal.settings.unknownFields;
  const { known, unknown } = mode === 'reject' ? { known: translated.body, unknown: {} } : splitUnknown(translated.body);
  const checked = ctx.validator.validateCreateTask<CreateTaskRequest>(known);
  if (!checked.ok) {
    const translatedAnything = notes.alias !== undefined || notes.renamed.length > 0 || notes.dropped.length > 0;
    throw invalidRequest(translatedAnything ? inLiangxinTerms(checked, translated.model, notes) : checked);
  }
  const model = checked.value.model;
  if (principal.models && !allows(principal.models, model, ctx.aliases)) {
    const asked = notes.alias ? `${notes.alias} (LiangXin's ${model})` : model;
    throw refusal('model_not_allowed', `Model ${asked} is not enabled for this tenant`, { data: { allowed: principal.models } });
  }
  const extra = Object.keys(unknown);
  const upstream =
    mode === 'forward' && extra.length > 0 ? ({ ...checked.value, input: { ...checked.value.input, ...unknown } } as CreateTaskRequest) : checked.value;
  const dropped = mode === 'drop' ? [...notes.dropped, ...extra] : notes.dropped;
  return { upstream, model: notes.alias ?? model, param: JSON.stringify(body), dropped };
}

// The public Market API (openapi/market.yaml) as an upstream: LiangXin re-brands it, so an
// operator may hold accounts of both and route a model to either. The gateway's body is
// LiangXin's (the canonical dialect); here it is translated into the Market API's by reading the
// alias table (aliases.ts) backwards, and the Market API's records and callbacks are read back in
// LiangXin's terms. Its body codes, cost rule and signing are the API family's (liangxin/).
import type { CreateTaskRequest } from '../../client/types.js';
import { loadMarketSpec, modelBranches, modelInputFields } from '../../spec/document.js';
import { createSpecValidator, formatFieldErrors, type SpecValidator } from '../../spec/validator.js';
import { familyParts, readCreateAnswer } from '../liangxin/index.js';
import type { Provider, Translated } from '../types.js';
import { aliasTable, type AliasEntry, type AliasTable } from './aliases.js';
import { liangxinModelOf } from './translate.js';

export const MARKET = 'market';

/**
 * Fields the Market API requires where LiangXin leaves them optional, with the value LiangXin's
 * own default denotes (its pages: square 1:1; Z-Image square_hd; Flux-2 Pro 1024×768, i.e. 4:3).
 * Values the alias table drops as "LiangXin's behaviour without it" (Seedream quality basic,
 * Flux resolution 1K) are filled from the table itself.
 */
const REQUIRED_FILLS: Readonly<Record<string, Readonly<Record<string, unknown>>>> = {
  'seedream-v4-5': { aspect_ratio: '1:1' },
  'seedream-v4-5-edit': { aspect_ratio: '1:1' },
  'seedream-v5-lite': { aspect_ratio: '1:1' },
  'seedream-v5-lite-edit': { aspect_ratio: '1:1' },
  'z-image': { aspect_ratio: '1:1' },
  'flux-2-pro': { aspect_ratio: '4:3' },
};

type Input = Record<string, unknown>;

/** A LiangXin input in the Market API's field names, by one alias entry read backwards. */
function backwards(input: Input, entry: AliasEntry, known: ReadonlySet<string>, fills: Readonly<Record<string, unknown>>): Input {
  const out: Input = { ...input };
  for (const [marketField, rule] of Object.entries(entry.fields ?? {})) {
    if (rule.action === 'drop' || rule.action === 'refuse') continue;
    const liangxinField = rule.action === 'rename' ? rule.to : (rule.to ?? marketField);
    // A rename from a deprecated Market name (Gemini's image_size): the current name is the Market API's too.
    if (rule.action === 'rename' && known.has(liangxinField)) continue;
    if (Object.hasOwn(input, liangxinField)) {
      const value = input[liangxinField];
      delete out[liangxinField];
      // The Market API's free-text seed where LiangXin's is an integer.
      out[marketField] = rule.action === 'integer' ? String(value) : value;
    } else if (rule.action === 'map') {
      // A value the table drops is what LiangXin does without the field: the Market API is told it.
      const implied = Object.entries(rule.values).find(([, v]) => v.action === 'drop')?.[0];
      if (implied !== undefined) out[marketField] = implied === 'true' ? true : implied === 'false' ? false : implied;
    }
  }
  for (const [field, value] of Object.entries(fills)) if (!Object.hasOwn(out, field)) out[field] = value;
  return out;
}

export function createMarketProvider(deps: { aliases?: AliasTable; validator?: SpecValidator } = {}): Provider {
  const table = deps.aliases ?? aliasTable();
  const validator = deps.validator ?? createSpecValidator(loadMarketSpec());
  // LiangXin model → the Market ids that denote it, in the table's order (Gemini: plain, then edit).
  const byLiangxin = new Map<string, string[]>();
  const doc = loadMarketSpec();
  const fieldsOf = modelInputFields(doc);
  for (const marketModel of modelBranches(doc).keys()) {
    const model = liangxinModelOf(marketModel, table);
    byLiangxin.set(model, [...(byLiangxin.get(model) ?? []), marketModel]);
  }

  function translate(body: CreateTaskRequest): Translated {
    const candidates = byLiangxin.get(body.model) ?? [];
    if (candidates.length === 0) return { ok: false, path: 'model', why: `the Market API has no model for LiangXin's ${body.model}` };
    let firstFailure = '';
    // The first Market model whose contract accepts the translation (Gemini: an edit when images are given).
    for (const marketModel of candidates) {
      const entry = table[marketModel] ?? { model: marketModel };
      const input = backwards(body.input as Input, entry, fieldsOf.get(marketModel) ?? new Set(), REQUIRED_FILLS[body.model] ?? {});
      const translated = { ...body, model: marketModel, input };
      const checked = validator.validateCreateTask(translated);
      if (checked.ok) return { ok: true, body: translated };
      firstFailure ||= formatFieldErrors(checked.errors, checked);
    }
    return { ok: false, path: 'input', why: `no faithful Market API body for LiangXin's ${body.model}: ${firstFailure}` };
  }

  return {
    name: MARKET,
    endpoints: { createTask: '/api/v1/jobs/createTask', recordInfo: (taskId) => `/api/v1/jobs/recordInfo?taskId=${encodeURIComponent(taskId)}` },
    auth: (apiKey) => ({ authorization: `Bearer ${apiKey}` }),
    serves: (model) => byLiangxin.has(model),
    translate,
    readCreate: readCreateAnswer,
    ...familyParts({ name: MARKET, validator, toLiangxinModel: (model) => liangxinModelOf(model, table) }),
  };
}

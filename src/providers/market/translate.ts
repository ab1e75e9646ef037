// A createTask body in the public Market dialect, translated into LiangXin's by the alias table
// (aliases.ts): the model id replaced, fields renamed, values mapped or dropped, and a refusal,
// naming the LiangXin model and field, where no faithful translation exists. Pure: the caller
// validates the result against LiangXin's contract, so a translated value that is still wrong is
// refused there, by LiangXin's own rules.
import type { AliasEntry, AliasTable, FieldRule, ValueRule } from './aliases.js';

export interface TranslationNotes {
  /** The Market id asked for, when it was an alias of another LiangXin id. */
  alias?: string;
  renamed: Array<{ from: string; to: string }>;
  dropped: string[];
}

export type Translation = { ok: true; body: Record<string, unknown>; model: string; notes: TranslationNotes } | { ok: false; path: string; message: string };

type Input = Record<string, unknown>;
type Step = { kind: 'keep'; to: string; value: unknown } | { kind: 'drop' } | { kind: 'refuse'; why: string };

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

function byValue(rule: ValueRule, to: string): Step {
  if (rule.action === 'set') return { kind: 'keep', to, value: rule.value };
  return rule.action === 'drop' ? { kind: 'drop' } : { kind: 'refuse', why: rule.why };
}

function step(field: string, value: unknown, rule: FieldRule): Step {
  switch (rule.action) {
    case 'rename':
      return { kind: 'keep', to: rule.to, value };
    case 'drop':
      return { kind: 'drop' };
    case 'refuse':
      return { kind: 'refuse', why: rule.why };
    case 'map': {
      const mapped = rule.values[typeof value === 'string' ? value : JSON.stringify(value)];
      return mapped ? byValue(mapped, rule.to ?? field) : { kind: 'keep', to: rule.to ?? field, value };
    }
    case 'integer': {
      const text = typeof value === 'number' ? String(value) : value;
      const n = typeof text === 'string' && /^\s*\d{1,15}\s*$/.test(text) ? Number(text) : NaN;
      return Number.isSafeInteger(n) && n >= rule.min ? { kind: 'keep', to: rule.to ?? field, value: n } : { kind: 'refuse', why: rule.why };
    }
  }
}

function translateInput(input: Input, entry: AliasEntry, notes: TranslationNotes): { ok: true; input: Input } | { ok: false; path: string; why: string } {
  const fields = entry.fields ?? {};
  const out: Input = {};
  // Fields without a rule first, so a renamed field never overwrites one the body names itself
  // (image_size beside aspect_ratio: the current name wins, the old one is dropped).
  for (const [field, value] of Object.entries(input)) if (!Object.hasOwn(fields, field)) out[field] = value;
  for (const [field, value] of Object.entries(input)) {
    const rule = fields[field];
    if (!rule) continue;
    const next = step(field, value, rule);
    if (next.kind === 'refuse') return { ok: false, path: `input.${field}`, why: next.why };
    if (next.kind === 'drop' || Object.hasOwn(out, next.to)) {
      notes.dropped.push(field);
      continue;
    }
    out[next.to] = next.value;
    if (next.to !== field) notes.renamed.push({ from: field, to: next.to });
  }
  return { ok: true, input: out };
}

/**
 * The body in LiangXin's dialect. A model the table does not know passes unchanged (LiangXin's
 * own ids, and anything validation will refuse); so does a body whose `input` is not an object.
 */
export function translateMarketBody(body: Record<string, unknown>, table: AliasTable): Translation {
  const asked = body.model;
  const entry = typeof asked === 'string' && Object.hasOwn(table, asked) ? table[asked] : undefined;
  const notes: TranslationNotes = { renamed: [], dropped: [] };
  if (!entry) return { ok: true, body, model: typeof asked === 'string' ? asked : '', notes };
  if (entry.model !== asked) notes.alias = asked as string;
  if (!isObject(body.input)) return { ok: true, body: { ...body, model: entry.model }, model: entry.model, notes };
  const translated = translateInput(body.input, entry, notes);
  if (!translated.ok) {
    return { ok: false, path: translated.path, message: `cannot be translated to LiangXin's ${entry.model}: ${translated.why}` };
  }
  return { ok: true, body: { ...body, model: entry.model, input: translated.input }, model: entry.model, notes };
}

/** The LiangXin id a model id denotes (itself when it is no alias). */
export function liangxinModelOf(model: string, table: AliasTable): string {
  return Object.hasOwn(table, model) ? table[model]!.model : model;
}

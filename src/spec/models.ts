// The model catalogue, read from the contract: each model's createTask fields with their types,
// limits, defaults and whether they are required, and the rules JSON Schema cannot state. Used by
// `liangxin-gateway models`.
import { loadLiangxinSpec, modelBranches, resolveSchema, type JsonSchema, type SpecDocument } from './document.js';
import { describeRule, inputRules } from './rules.js';

export interface ModelField {
  name: string;
  required: boolean;
  /** e.g. `string`, `integer`, `boolean`, `array<string>` */
  type: string;
  /** Allowed values, for enums. */
  values?: string[];
  /** Human-readable limits: `1–3000 chars`, `3–15`, `≤ 14 items`. */
  limits?: string;
  description?: string;
  /** What the provider uses when the field is left out. */
  default?: unknown;
  deprecated?: boolean;
}

export interface ModelInfo {
  model: string;
  title: string;
  /** For models whose input has alternatives (Kling: one prompt or multi-shot), one list each. */
  variants: Array<{ title: string; fields: ModelField[] }>;
  /** Rules across fields (`x-liangxin-rules`), in words. */
  rules: string[];
}

function typeName(schema: JsonSchema, doc: SpecDocument): string {
  const resolved = resolveSchema(doc, schema);
  if (resolved.type === 'array' && resolved.items) return `array<${typeName(resolved.items, doc)}>`;
  return Array.isArray(resolved.type) ? resolved.type.join('|') : String(resolved.type ?? 'any');
}

function range(min: unknown, max: unknown, unit: string): string | undefined {
  if (min === undefined && max === undefined) return undefined;
  if (min === undefined) return `≤ ${max}${unit}`;
  if (max === undefined) return `≥ ${min}${unit}`;
  return `${min}–${max}${unit}`;
}

function describeField(name: string, raw: JsonSchema, required: boolean, doc: SpecDocument): ModelField {
  const schema = resolveSchema(doc, raw);
  const limits =
    range(schema.minLength, schema.maxLength, ' chars') ?? range(schema.minimum, schema.maximum, '') ?? range(schema.minItems, schema.maxItems, ' items');
  return {
    name,
    required,
    type: typeName(raw, doc),
    ...(schema.enum ? { values: schema.enum.map(String) } : {}),
    ...(limits ? { limits } : {}),
    ...((raw.description ?? schema.description) ? { description: String(raw.description ?? schema.description) } : {}),
    ...((raw.default ?? schema.default) !== undefined ? { default: raw.default ?? schema.default } : {}),
    ...(raw.deprecated ? { deprecated: true } : {}),
  };
}

function describeInput(input: JsonSchema, doc: SpecDocument): ModelInfo['variants'] {
  const schema = resolveSchema(doc, input);
  if (schema.oneOf) {
    return schema.oneOf.flatMap((alternative) => {
      const [variant] = describeInput(alternative, doc);
      return variant ? [{ ...variant, title: resolveSchema(doc, alternative).title ?? variant.title }] : [];
    });
  }
  const required = new Set(schema.required ?? []);
  const fields = Object.entries(schema.properties ?? {})
    // `false` marks a field that must be absent in this variant: not a field to list.
    .filter((entry): entry is [string, JsonSchema] => typeof entry[1] === 'object')
    .map(([name, field]) => describeField(name, field, required.has(name), doc));
  return [{ title: schema.title ?? '', fields }];
}

export function listModels(doc: SpecDocument = loadLiangxinSpec()): ModelInfo[] {
  const rules = inputRules(doc);
  return [...modelBranches(doc)].map(([model, branchName]) => {
    const branch = doc.components.schemas[branchName]!;
    const input = branch.properties?.input as JsonSchema;
    return { model, title: branch.title ?? model, variants: describeInput(input, doc), rules: (rules.get(model) ?? []).map(describeRule) };
  });
}

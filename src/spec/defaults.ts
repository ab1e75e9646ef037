// The defaults the provider applies to fields a createTask leaves out, read from the spec's
// `default` keywords (the one place they are stated). The simulator reads them to render what the
// provider would have made, e.g. a 16:9 video when Kling's aspect_ratio is not sent.
import { loadLiangxinSpec, modelBranches, resolveSchema, type JsonSchema, type SpecDocument } from './document.js';

export type InputDefaults = Readonly<Record<string, unknown>>;

/** A property's default: on the property itself (beside a `$ref`) first, else on what it refers to. */
function defaultOf(doc: SpecDocument, property: JsonSchema): unknown {
  return 'default' in property ? property.default : resolveSchema(doc, property).default;
}

/** The defaults of one input schema; for alternatives (Kling's prompt or multi-shot), of all of them. */
function collect(doc: SpecDocument, input: JsonSchema, into: Record<string, unknown>): void {
  const schema = resolveSchema(doc, input);
  for (const alternative of schema.oneOf ?? []) collect(doc, alternative, into);
  for (const [name, property] of Object.entries(schema.properties ?? {})) {
    if (typeof property !== 'object') continue; // `false`: the field must be absent here
    const value = defaultOf(doc, property);
    if (value !== undefined && !(name in into)) into[name] = value;
  }
}

/** model → the defaults of its input fields (fields without a default are absent). */
export function inputDefaults(doc: SpecDocument = loadLiangxinSpec()): Map<string, InputDefaults> {
  const byModel = new Map<string, InputDefaults>();
  for (const [model, branchName] of modelBranches(doc)) {
    const input = doc.components.schemas[branchName]?.properties?.input;
    const defaults: Record<string, unknown> = {};
    if (typeof input === 'object') collect(doc, input, defaults);
    byModel.set(model, Object.freeze(defaults));
  }
  return byModel;
}

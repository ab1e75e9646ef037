// The provider's OpenAPI document, parsed once per process. Everything that must agree with the
// contract (validation, the model catalogue, the simulator) reads it from here.
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { gatewaySpecPath, liangxinSpecPath, marketSpecPath } from './files.js';

export type JsonSchema = Record<string, unknown> & {
  $ref?: string;
  type?: string | string[];
  title?: string;
  description?: string;
  properties?: Record<string, JsonSchema | boolean>;
  required?: string[];
  enum?: unknown[];
  const?: unknown;
  oneOf?: JsonSchema[];
  items?: JsonSchema;
  discriminator?: { propertyName: string; mapping: Record<string, string> };
};

export interface SpecDocument {
  components: { schemas: Record<string, JsonSchema> };
  [key: string]: unknown;
}

const cache = new Map<string, SpecDocument>();

function load(path: string): SpecDocument {
  let doc = cache.get(path);
  if (!doc) {
    doc = parse(readFileSync(path, 'utf8')) as SpecDocument;
    cache.set(path, doc);
  }
  return doc;
}

export const loadLiangxinSpec = (): SpecDocument => load(liangxinSpecPath);

/** The public Market API's contract (its model ids and fields): the compatibility profile. */
export const loadMarketSpec = (): SpecDocument => load(marketSpecPath);

/** The gateway's own contract (tenant API and admin API). Its admin schemas are self-contained. */
export const loadGatewaySpec = (): SpecDocument => load(gatewaySpecPath);

/** Follows a local `#/components/schemas/X` reference; other schemas are returned as they are. */
export function resolveSchema(doc: SpecDocument, schema: JsonSchema): JsonSchema {
  if (!schema.$ref) return schema;
  const name = schema.$ref.replace('#/components/schemas/', '');
  const target = doc.components.schemas[name];
  if (!target) throw new Error(`spec: unresolved reference ${schema.$ref}`);
  return resolveSchema(doc, target);
}

/** model name → component schema name of its createTask branch, from the discriminator mapping. */
export function modelBranches(doc: SpecDocument = loadLiangxinSpec()): Map<string, string> {
  const mapping = doc.components.schemas.CreateTaskRequest?.discriminator?.mapping ?? {};
  return new Map(Object.entries(mapping).map(([model, ref]) => [model, ref.replace('#/components/schemas/', '')]));
}

/** model → the `input` field names its schema knows (across alternatives, e.g. Kling's two inputs). */
export function modelInputFields(doc: SpecDocument = loadLiangxinSpec()): Map<string, Set<string>> {
  const known = new Map<string, Set<string>>();
  for (const [model, branch] of modelBranches(doc)) {
    const input = resolveSchema(doc, doc.components.schemas[branch]!.properties!.input as JsonSchema);
    const variants = input.oneOf ? input.oneOf.map((v) => resolveSchema(doc, v)) : [input];
    known.set(model, new Set(variants.flatMap((v) => Object.keys(v.properties ?? {}))));
  }
  return known;
}

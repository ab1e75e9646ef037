// Validation from the contract, compiled once: the createTask body is checked against the branch
// the spec's discriminator mapping names for its `model`, so a refusal lists the fields of that
// model only (validating the plain oneOf would report every other model's mismatches as well).
// No field rule is written here; they all come from openapi/liangxin.yaml (the ones JSON Schema
// cannot state from its `x-liangxin-rules`, checked by rules.ts once the schema passed).
//
// A refusal names at most REPORTED_ERRORS fields and says how many failed: a hostile body of
// 90,000 unknown fields once got an 11 MB answer after seconds of blocked event loop. A body that
// fails is explained from a bounded view of it (bounded.ts), so the work stops early too.
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { boundedView, boundsOf } from './bounded.js';
import { loadLiangxinSpec, modelBranches, type SpecDocument } from './document.js';
import { checkRules, inputRules } from './rules.js';

import type { FieldError } from './field-error.js';

export type { FieldError };

/** A refusal lists at most this many failing fields (the first ones), and counts them all. */
export const REPORTED_ERRORS = 20;

export interface ValidationFailure {
  ok: false;
  /** The first REPORTED_ERRORS failing fields. */
  errors: FieldError[];
  /** How many failing fields were found (a lower bound when `partial`). */
  errorCount: number;
  /** An oversized object or array was checked in its first entries only. */
  partial?: true;
}

export type ValidationResult<T> = { ok: true; value: T } | ValidationFailure;

function failure(errors: FieldError[], partial = false): ValidationFailure {
  const capped = errors.length > REPORTED_ERRORS ? errors.slice(0, REPORTED_ERRORS) : errors;
  return partial ? { ok: false, errors: capped, errorCount: errors.length, partial: true } : { ok: false, errors: capped, errorCount: errors.length };
}

const SPEC_ID = 'liangxin';

function pointerToPath(pointer: string): string {
  return pointer
    .split('/')
    .slice(1)
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .join('.');
}

function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

function toFieldError(error: ErrorObject, branchTitle?: string): FieldError {
  const at = pointerToPath(error.instancePath);
  const params = error.params as Record<string, unknown>;
  const suffix = branchTitle ? ` (${branchTitle})` : '';
  switch (error.keyword) {
    case 'required':
      return { path: join(at, String(params.missingProperty)), message: `is required${suffix}`, keyword: 'required' };
    case 'additionalProperties':
      return { path: join(at, String(params.additionalProperty)), message: `is not a field here${suffix}`, keyword: 'additionalProperties' };
    case 'false schema':
      return { path: at, message: `is not allowed here${suffix}`, keyword: 'not' };
    case 'enum':
      return { path: at, message: `must be one of ${(params.allowedValues as unknown[]).join(', ')}${suffix}`, keyword: 'enum' };
    case 'const':
      return { path: at, message: `must be ${JSON.stringify(params.allowedValue)}${suffix}`, keyword: 'const' };
    default:
      return { path: at, message: `${error.message ?? 'is invalid'}${suffix}`, keyword: error.keyword };
  }
}

function valueAt(root: unknown, pointer: string): unknown {
  let value = root;
  for (const part of pointer.split('/').slice(1)) {
    value = (value as Record<string, unknown> | undefined)?.[part.replace(/~1/g, '/').replace(/~0/g, '~')];
  }
  return value;
}

function within(pointer: string, parent: string): boolean {
  return pointer === parent || pointer.startsWith(`${parent}/`);
}

function dedupe(errors: FieldError[]): FieldError[] {
  const seen = new Set<string>();
  return errors.filter((e) => {
    const key = `${e.path}\u0000${e.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

type CompileRef = (ref: string) => ValidateFunction | undefined;

/**
 * Ajv reports a failed `oneOf` with the errors of every alternative mixed together. Validate the
 * value against each alternative on its own, keep the ones that came closest (fewest errors),
 * naming each by its schema title when more than one is kept; drop the summary line.
 */
function explain(errors: ErrorObject[], root: unknown, compileRef: CompileRef, doc: SpecDocument, title?: string): FieldError[] {
  const relevant = errors.filter((e) => e.keyword !== 'if');
  const oneOf = relevant.find((e) => e.keyword === 'oneOf');
  const alternatives = oneOf ? (oneOf.schema as Array<{ $ref?: string }>).map((s) => (s.$ref ? compileRef(s.$ref) : undefined)) : [];
  if (!oneOf || alternatives.some((fn) => !fn)) return dedupe(relevant.map((e) => toFieldError(e, title)));

  const at = oneOf.instancePath;
  const value = valueAt(root, at);
  const outside = relevant.filter((e) => !within(e.instancePath, at)).map((e) => toFieldError(e, title));
  const explained = alternatives.map((fn, index) => {
    fn!(value);
    const own = (fn!.errors ?? []).map((e) => ({ ...e, instancePath: at + e.instancePath }));
    const ref = (oneOf.schema as Array<{ $ref: string }>)[index]!.$ref.replace('#/components/schemas/', '');
    return { own, title: doc.components.schemas[ref]?.title ?? ref };
  });
  const fewest = Math.min(...explained.map((x) => x.own.length));
  const closest = explained.filter((x) => x.own.length === fewest);
  return dedupe([...outside, ...closest.flatMap((x) => explain(x.own, root, compileRef, doc, closest.length > 1 ? x.title : title))]);
}

export interface SpecValidator {
  /** Every model createTask accepts, in the spec's order. */
  readonly models: readonly string[];
  /** Validates a createTask body; on failure the first failing fields, with path and reason, and their count. */
  validateCreateTask<T = unknown>(body: unknown): ValidationResult<T>;
  /** Validates a value against one of the spec's component schemas (e.g. `RecordInfoResponse`). */
  validateSchema<T = unknown>(schemaName: string, value: unknown): ValidationResult<T>;
}

export interface SpecValidatorOptions {
  /**
   * Compile every model's schema now (servers: pay once at start, never on a request) or on first
   * use (a one-shot command validating one body: about half a second less).
   */
  eager?: boolean;
}

export function createSpecValidator(doc: SpecDocument = loadLiangxinSpec(), options: SpecValidatorOptions = {}): SpecValidator {
  // strict: false because OpenAPI adds keywords JSON Schema does not know (example, discriminator).
  // verbose: errors carry their schema, which explain() needs to re-check oneOf alternatives.
  const ajv = new Ajv2020({ allErrors: true, strict: false, verbose: true });
  addFormats.default(ajv);
  ajv.addSchema(doc as object, SPEC_ID);

  const compiled = new Map<string, ValidateFunction>();
  const compile = (schemaName: string): ValidateFunction => {
    let fn = compiled.get(schemaName);
    if (!fn) {
      fn = ajv.getSchema(`${SPEC_ID}#/components/schemas/${schemaName}`);
      if (!fn) throw new Error(`spec: no schema named ${schemaName}`);
      compiled.set(schemaName, fn);
    }
    return fn;
  };

  const branches = modelBranches(doc);
  if (options.eager ?? true) for (const schemaName of branches.values()) compile(schemaName);
  const models = [...branches.keys()];
  const rules = inputRules(doc);

  const compileRef: CompileRef = (ref) => ajv.getSchema(`${SPEC_ID}${ref}`);
  const bounds = boundsOf(doc, REPORTED_ERRORS);

  function run<T>(fn: ValidateFunction, value: unknown): ValidationResult<T> {
    const view = boundedView(value, bounds);
    if (!fn(view.value)) return failure(explain(fn.errors ?? [], view.value, compileRef, doc), view.cut);
    if (!view.cut) return { ok: true, value: value as T };
    // The view passed with entries left out (an open object, an array without maxItems): only
    // the whole value can say. A closed schema never gets here: its cut containers fail.
    return fn(value) ? { ok: true, value: value as T } : failure(explain(fn.errors ?? [], value, compileRef, doc));
  }

  return {
    models,
    validateCreateTask<T>(body: unknown): ValidationResult<T> {
      if (typeof body !== 'object' || body === null || Array.isArray(body)) {
        return failure([{ path: '', message: 'must be a JSON object', keyword: 'type' }]);
      }
      const model = (body as { model?: unknown }).model;
      if (model === undefined) return failure([{ path: 'model', message: 'is required', keyword: 'required' }]);
      const branch = typeof model === 'string' ? branches.get(model) : undefined;
      if (!branch) {
        return failure([{ path: 'model', message: `must be one of ${models.join(', ')}`, keyword: 'enum' }]);
      }
      const checked = run<T>(compile(branch), body);
      const broken = checked.ok ? checkRules(rules.get(model as string) ?? [], (body as { input?: unknown }).input) : [];
      return broken.length > 0 ? failure(broken) : checked;
    },
    validateSchema<T>(schemaName: string, value: unknown): ValidationResult<T> {
      return run<T>(compile(schemaName), value);
    },
  };
}

/**
 * One line for people: `input.aspect_ratio must be one of 1:1, 4:3; input.quality is required`,
 * ending `; and 87,951 more` when given a count larger than the list.
 */
export function formatFieldErrors(errors: FieldError[], counted?: { errorCount: number; partial?: boolean }): string {
  const line = errors.map((e) => `${e.path || 'body'} ${e.message}`).join('; ');
  const more = (counted?.errorCount ?? errors.length) - errors.length;
  return more > 0 ? `${line}; and ${counted?.partial ? 'at least ' : ''}${more.toLocaleString('en-US')} more` : line;
}

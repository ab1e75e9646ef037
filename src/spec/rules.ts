// Rules JSON Schema cannot state, kept in the spec as data: `x-liangxin-rules` on a model's input
// schema (the spec's description documents the two kinds). Prism and other generic validators
// ignore the extension, so the spec's validator applies these after the schema passed, and the
// gateway and the simulator refuse naming the field. No rule is written here, only how to check one.
import { loadLiangxinSpec, modelBranches, resolveSchema, type JsonSchema, type SpecDocument } from './document.js';
import type { FieldError } from './field-error.js';

export const RULES_EXTENSION = 'x-liangxin-rules';

export type InputRule =
  /** The listed fields together hold at most N items (an array counts its items, another value one). */
  | { maxCombinedItems: number; fields: string[] }
  /** The `of` values of the objects in the array `field` add up to at most N. */
  | { maxSum: number; field: string; of: string };

/** The spec carries a rule this module does not understand: a spec bug, refused at start-up. */
export class SpecRuleError extends Error {
  override readonly name = 'SpecRuleError';
  readonly code = 'BAD_SPEC_RULE' as const;
}

const isCount = (value: unknown): value is number => Number.isInteger(value) && (value as number) >= 0;
const isNames = (value: unknown): value is string[] => Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === 'string');

function parseRule(raw: unknown, where: string): InputRule {
  const rule = (raw ?? {}) as Record<string, unknown>;
  if (isCount(rule.maxCombinedItems) && isNames(rule.fields)) return { maxCombinedItems: rule.maxCombinedItems, fields: rule.fields };
  if (typeof rule.maxSum === 'number' && typeof rule.field === 'string' && typeof rule.of === 'string') {
    return { maxSum: rule.maxSum, field: rule.field, of: rule.of };
  }
  throw new SpecRuleError(`spec: ${where} has a ${RULES_EXTENSION} entry this validator does not know: ${JSON.stringify(raw)}`);
}

/** model → the rules of its input schema; models without rules are absent. */
export function inputRules(doc: SpecDocument = loadLiangxinSpec()): Map<string, InputRule[]> {
  const byModel = new Map<string, InputRule[]>();
  for (const [model, branchName] of modelBranches(doc)) {
    const input = doc.components.schemas[branchName]?.properties?.input;
    if (typeof input !== 'object') continue;
    const raw = resolveSchema(doc, input as JsonSchema)[RULES_EXTENSION];
    if (raw === undefined) continue;
    if (!Array.isArray(raw)) throw new SpecRuleError(`spec: ${branchName} input: ${RULES_EXTENSION} must be a list`);
    byModel.set(
      model,
      raw.map((rule) => parseRule(rule, `${branchName} input`)),
    );
  }
  return byModel;
}

function itemCount(value: unknown): number {
  if (value === undefined) return 0;
  return Array.isArray(value) ? value.length : 1;
}

function checkRule(rule: InputRule, input: Record<string, unknown>, at: string): FieldError | undefined {
  if ('maxCombinedItems' in rule) {
    const present = rule.fields.filter((name) => input[name] !== undefined);
    const total = present.reduce((sum, name) => sum + itemCount(input[name]), 0);
    if (total <= rule.maxCombinedItems) return undefined;
    const [first, ...others] = present.map((name) => `${at}.${name}`);
    const together = others.length > 0 ? `together with ${others.join(', ')} ` : '';
    return { path: first!, message: `${together}must have at most ${rule.maxCombinedItems} items (${total} given)`, keyword: 'maxCombinedItems' };
  }
  const list = input[rule.field];
  if (!Array.isArray(list)) return undefined;
  const sum = list.reduce<number>((total, item) => total + Number((item as Record<string, unknown> | null)?.[rule.of] ?? 0), 0);
  if (sum <= rule.maxSum) return undefined;
  return { path: `${at}.${rule.field}`, message: `must have ${rule.of} adding up to at most ${rule.maxSum} (${sum} given)`, keyword: 'maxSum' };
}

/** The rules an input breaks, each naming its field; [] when it keeps them all (or is not an object). */
export function checkRules(rules: readonly InputRule[], input: unknown, at = 'input'): FieldError[] {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return [];
  return rules.flatMap((rule) => checkRule(rule, input as Record<string, unknown>, at) ?? []);
}

/** One line for people, e.g. `image_input + reference_images: at most 3 items together`. */
export function describeRule(rule: InputRule): string {
  if ('maxCombinedItems' in rule) return `${rule.fields.join(' + ')}: at most ${rule.maxCombinedItems} items together`;
  return `${rule.field}[].${rule.of}: adding up to at most ${rule.maxSum}`;
}

// A bounded view of a value that failed the contract, for explaining why. Ajv with allErrors
// spends time on every failing entry (one error object each, and explain() looks at each again),
// so a 1 MiB body of 90,000 unknown fields or 400,000 wrong array items cost seconds of blocked
// event loop and a 10–60 MB answer. No valid body comes near the bounds here, so a container
// past them already fails on its size; explaining its first entries says all a caller needs.
//
// The view keeps every verdict a capped list can show: arrays keep more items than any
// maxItems/minItems of the contract (those errors still fire), objects keep every key the
// contract names anywhere (no field is reported missing because it was cut) and enough unknown
// ones for minProperties and for the errors reported. Strings are left whole: format and pattern
// verdicts depend on the whole string, and length checks on 1 MiB cost milliseconds.
import type { SpecDocument } from './document.js';

export interface Bounds {
  /** Every property name the contract declares anywhere. */
  readonly knownNames: ReadonlySet<string>;
  /** Arrays keep this many items; objects this many keys besides the known ones. */
  readonly maxEntries: number;
}

/** The contract's bodies nest four levels; deeper values are left whole (Ajv descends only where a schema does). */
const MAX_DEPTH = 64;
const COUNTED = ['maxItems', 'minItems', 'maxProperties', 'minProperties'] as const;

/** Reads the bounds from the document: its property names, and its largest count keyword or property list. */
export function boundsOf(doc: SpecDocument, reported: number): Bounds {
  const knownNames = new Set<string>();
  let largest = 0;
  const stack: unknown[] = [doc.components];
  while (stack.length > 0) {
    const node = stack.pop();
    if (typeof node !== 'object' || node === null) continue;
    const schema = node as Record<string, unknown>;
    const properties = schema.properties;
    if (typeof properties === 'object' && properties !== null && !Array.isArray(properties)) {
      const names = Object.keys(properties);
      for (const name of names) knownNames.add(name);
      largest = Math.max(largest, names.length);
    }
    for (const keyword of COUNTED) if (typeof schema[keyword] === 'number') largest = Math.max(largest, schema[keyword]);
    for (const value of Object.values(schema)) if (typeof value === 'object' && value !== null) stack.push(value);
  }
  return { knownNames, maxEntries: largest + reported };
}

export interface BoundedView {
  value: unknown;
  /** Whether anything was left out (so a clean verdict on the view proves nothing). */
  cut: boolean;
}

/** The value with every oversized container cut to its first entries; the value itself when none is. */
export function boundedView(value: unknown, bounds: Bounds): BoundedView {
  const state = { cut: false };
  const view = bound(value, 0, bounds, state);
  return { value: view, cut: state.cut };
}

function bound(value: unknown, depth: number, bounds: Bounds, state: { cut: boolean }): unknown {
  if (typeof value !== 'object' || value === null || depth >= MAX_DEPTH) return value;
  if (Array.isArray(value)) {
    const kept = value.length > bounds.maxEntries ? value.slice(0, bounds.maxEntries) : value;
    if (kept !== value) state.cut = true;
    let copy: unknown[] | undefined;
    for (let i = 0; i < kept.length; i++) {
      const item = bound(kept[i], depth + 1, bounds, state);
      if (item === kept[i]) continue;
      copy ??= kept.slice();
      copy[i] = item;
    }
    return copy ?? kept;
  }
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record);
  if (keys.length > bounds.maxEntries) return cutObject(record, keys, depth, bounds, state);
  // Copied only when something inside changes: a body within the bounds costs no allocation.
  let copy: Array<[string, unknown]> | undefined;
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    const child = bound(record[key], depth + 1, bounds, state);
    if (!copy && child !== record[key]) copy = keys.slice(0, i).map((k): [string, unknown] => [k, record[k]]);
    copy?.push([key, child]);
  }
  // fromEntries defines own properties, so a key named __proto__ stays a key.
  return copy ? Object.fromEntries(copy) : record;
}

/** An object past the bounds: every key the contract knows, and the first unknown ones. */
function cutObject(record: Record<string, unknown>, keys: string[], depth: number, bounds: Bounds, state: { cut: boolean }): Record<string, unknown> {
  state.cut = true;
  const entries: Array<[string, unknown]> = [];
  let unknown = 0;
  for (const key of keys) {
    if (!bounds.knownNames.has(key) && ++unknown > bounds.maxEntries) continue;
    entries.push([key, bound(record[key], depth + 1, bounds, state)]);
  }
  return Object.fromEntries(entries);
}

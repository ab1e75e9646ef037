// "Did you mean": a misspelt config key is the commonest start-up error (`failopen`, `tenant`,
// `createPer10`), and zod only says the key is unrecognized. This finds the keys the schema
// accepts at that place and names the closest one.
import type { z } from 'zod';

type AnySchema = z.ZodType & { def: { type: string; [key: string]: unknown } };

/** The object schema at `path` (through defaults, optionals, arrays and refinements), if any. */
function objectAt(schema: AnySchema, path: ReadonlyArray<PropertyKey>): Record<string, AnySchema> | undefined {
  let at: AnySchema | undefined = schema;
  let rest = [...path];
  while (at) {
    const def: AnySchema['def'] = at.def;
    if (def.type === 'default' || def.type === 'optional' || def.type === 'nullable' || def.type === 'prefault') at = def.innerType as AnySchema;
    else if (def.type === 'pipe') at = def.in as AnySchema;
    else if (def.type === 'array') {
      if (typeof rest[0] !== 'number') return undefined;
      rest = rest.slice(1);
      at = def.element as AnySchema;
    } else if (def.type === 'object') {
      const shape = def.shape as Record<string, AnySchema>;
      if (rest.length === 0) return shape;
      at = shape[String(rest[0])];
      rest = rest.slice(1);
    } else return undefined;
  }
  return undefined;
}

/** Edit distance (insertions, deletions, substitutions, and swaps of neighbours). */
function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}

/** The accepted key closest to `key`, when it is close enough to be a likely typo. */
export function closestKey(key: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const d = distance(key.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  // A third of the word, at least 2: `tenant` → `tenants`, `failopen` → `failOpen`, not `id` → `ops`.
  return bestDistance <= Math.max(2, Math.floor(key.length / 3)) ? best : undefined;
}

/** `unknown key "failopen" (did you mean "failOpen"?)`, or without the hint when nothing is close. */
export function describeUnknownKeys(schema: z.ZodType, path: ReadonlyArray<PropertyKey>, keys: readonly string[]): string {
  const known = Object.keys(objectAt(schema as AnySchema, path) ?? {});
  return keys
    .map((key) => {
      const hint = closestKey(key, known);
      return `unknown key "${key}"${hint ? ` (did you mean "${hint}"?)` : ''}`;
    })
    .join(', ');
}

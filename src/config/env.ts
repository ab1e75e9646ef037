// `${NAME}` in any string of the config is replaced by the environment variable NAME, so secrets
// stay out of the file; `${NAME:-fallback}` uses the fallback when NAME is unset or empty. A
// missing variable without fallback is an error naming the variable and where it is used;
// `$${...}` writes a literal `${...}`.

export interface EnvProblem {
  path: string;
  message: string;
}

const REFERENCE = /\$(\$?)\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

export function formatPath(path: ReadonlyArray<string | number | symbol>): string {
  return path.reduce<string>((out, part) => (typeof part === 'number' ? `${out}[${part}]` : out ? `${out}.${String(part)}` : String(part)), '');
}

export function expandEnv(value: unknown, env: NodeJS.ProcessEnv, problems: EnvProblem[], path: Array<string | number> = []): unknown {
  if (typeof value === 'string') {
    return value.replace(REFERENCE, (whole, escaped: string, name: string, fallback: string | undefined) => {
      if (escaped) return whole.slice(1);
      const found = env[name];
      if (fallback !== undefined && !found) return fallback;
      if (found === undefined) {
        problems.push({ path: formatPath(path), message: `environment variable ${name} is not set` });
        return '';
      }
      return found;
    });
  }
  if (Array.isArray(value)) return value.map((item, i) => expandEnv(item, env, problems, [...path, i]));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, expandEnv(item, env, problems, [...path, key])]));
  }
  return value;
}

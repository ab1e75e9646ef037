// From a YAML file (or an object) to a typed, frozen Config: parse, expand `${ENV}`, validate.
// Anything wrong stops start-up with one ConfigError naming the path and the reason.
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { expandEnv, formatPath, type EnvProblem } from './env.js';
import { configSchema, type Config } from './schema.js';
import { describeUnknownKeys } from './suggest.js';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly code = 'CONFIG_INVALID' as const;
  readonly problems: EnvProblem[];

  constructor(source: string, problems: EnvProblem[]) {
    super(`${source}: ${problems.map((p) => (p.path ? `${p.path}: ${p.message}` : p.message)).join('; ')}`);
    this.problems = problems;
  }
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const item of Object.values(value)) deepFreeze(item);
    Object.freeze(value);
  }
  return value;
}

export function parseConfig(raw: unknown, options: { env?: NodeJS.ProcessEnv; source?: string } = {}): Config {
  const source = options.source ?? 'config';
  const problems: EnvProblem[] = [];
  const expanded = expandEnv(raw ?? {}, options.env ?? process.env, problems);
  if (problems.length > 0) throw new ConfigError(source, problems);
  const result = configSchema.safeParse(expanded);
  if (!result.success) {
    throw new ConfigError(
      source,
      result.error.issues.map((issue) => ({
        path: formatPath(issue.path),
        message: issue.code === 'unrecognized_keys' ? describeUnknownKeys(configSchema, issue.path, issue.keys) : issue.message,
      })),
    );
  }
  return deepFreeze(result.data);
}

/** Where to listen instead of the file's `listen` (serve --host/--port), checked like the file. */
export type ListenOverride = Partial<{ host: string; port: number }>;

/**
 * Laid over the file before validation, not after: the rules that depend on where the gateway
 * listens (open ops endpoints only on loopback) must judge the address it will really use.
 */
function withListen(raw: unknown, listen: ListenOverride): unknown {
  const given = Object.fromEntries(Object.entries(listen).filter(([, value]) => value !== undefined));
  if (Object.keys(given).length === 0 || !raw || typeof raw !== 'object' || Array.isArray(raw)) return raw;
  const current = (raw as { listen?: unknown }).listen ?? {};
  // A malformed `listen` is left for the schema to name, not papered over by the flags.
  if (typeof current !== 'object' || Array.isArray(current)) return raw;
  return { ...raw, listen: { ...current, ...given } };
}

export function loadConfigFile(path: string, env: NodeJS.ProcessEnv = process.env, listen: ListenOverride = {}): Config {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(path, [{ path: '', message: `cannot read the file (${(error as NodeJS.ErrnoException).code ?? 'error'})` }]);
  }
  let raw: unknown;
  try {
    raw = parse(text);
  } catch (error) {
    throw new ConfigError(path, [{ path: '', message: `not valid YAML: ${(error as Error).message.split('\n')[0]}` }]);
  }
  return parseConfig(withListen(raw, listen), { env, source: path });
}

/** The origin the gateway is reached at. */
export function publicUrlOf(config: Config): string {
  return (config.publicUrl ?? `http://${config.listen.host}:${config.listen.port}`).replace(/\/+$/, '');
}

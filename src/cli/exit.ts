// Exit codes and the one place that turns any error into `error: …` on stderr plus a code, so a
// script can tell "fix your input" from "the API said no" from "try again later".
import { LiangxinError, LiangxinParseError, LiangxinTimeoutError, LiangxinTransportError } from '../client/index.js';

export const ExitCode = {
  ok: 0,
  /** The API refused, or the task failed. */
  refused: 1,
  /** Invalid usage or input; nothing was sent. */
  usage: 2,
  /** `--wait` gave up before the task ended. */
  timeout: 3,
  /** No usable answer from the server. */
  unreachable: 4,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

export const EXIT_CODES_HELP = `
Exit codes:
  0  ok
  1  the API refused, or the task failed (create --wait)
  2  invalid usage or input (nothing was sent)
  3  --wait timed out before the task ended
  4  could not reach the server (or its answer was not the API's)`;

/** An error the CLI raises itself, with the line to print and the code to exit with. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCodeValue,
  ) {
    super(message);
  }
}

export const usageError = (message: string) => new CliError(message, ExitCode.usage);

/** Where the request went, for transport errors; user:password in a URL must not be echoed. */
export interface ErrorContext {
  baseUrl?: string;
  /** Strings that must never reach the terminal in an error line (the API key). */
  secrets?: string[];
}

function withoutCredentials(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.username = '';
    parsed.password = '';
    return parsed.toString().replace(/\/$/, '');
  } catch {
    return url;
  }
}

/** The lowest-level reason Node gives (`connect ECONNREFUSED 127.0.0.1:9`), if any. */
function rootCause(error: unknown): string | undefined {
  let cause = (error as { cause?: unknown }).cause;
  let message: string | undefined;
  while (cause instanceof Error) {
    message = cause.message;
    cause = (cause as { cause?: unknown }).cause;
  }
  return message;
}

export function describeError(error: unknown, context: ErrorContext = {}): { line: string; exitCode: ExitCodeValue } {
  if (error instanceof CliError) return { line: error.message, exitCode: error.exitCode };
  if (error instanceof LiangxinError) return { line: `${error.code} ${error.msg}`, exitCode: ExitCode.refused };
  if (error instanceof LiangxinTimeoutError) {
    const line = `${error.message.replace(/^waitForTask: /, '')}; check it later with: liangxin-gateway get ${error.taskId}`;
    return { line, exitCode: ExitCode.timeout };
  }
  if (error instanceof LiangxinTransportError) {
    const where = context.baseUrl ? ` at ${withoutCredentials(context.baseUrl)}` : '';
    const reason = error.message.replace(/^\w+: /, '');
    const cause = rootCause(error);
    return { line: `${reason}${where}${cause && cause !== reason ? ` (${cause})` : ''}`, exitCode: ExitCode.unreachable };
  }
  if (error instanceof LiangxinParseError) return { line: error.message, exitCode: ExitCode.refused };
  return { line: error instanceof Error ? error.message : String(error), exitCode: ExitCode.refused };
}

export function redact(line: string, secrets: readonly string[] = []): string {
  // Short strings would blank out ordinary words; a real key is long.
  return secrets.filter((s) => s.length >= 6).reduce((text, secret) => text.split(secret).join('***'), line);
}

/** Prints the error as one line and sets the exit code; the process then ends on its own. */
export function reportError(error: unknown, context: ErrorContext = {}): ExitCodeValue {
  const { line, exitCode } = describeError(error, context);
  process.stderr.write(`error: ${redact(line, context.secrets).replace(/\s*\n\s*/g, ' ')}\n`);
  process.exitCode = exitCode;
  return exitCode;
}

// Logs: pino, with redaction of anything that looks like a secret, so no code path can log one
// by accident; and one line per request with a request id, the tenant id, the taskId and the
// upstream key *id*.
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pino, type Logger } from 'pino';
import { CALLBACK_PATH } from '../callbacks/inbound.js';

export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'res.headers["set-cookie"]',
  '*.apiKey',
  '*.apiKeys',
  '*.secret',
  '*.token',
  '*.webhookHmacKey',
  '*.webhookSecret',
  // ioredis puts the failed command on its errors: for AUTH (a redis:// URL's password) that is
  // the password itself, and an error logged as { err } would print it.
  '*.command.args',
];

export function createLogger(options: { level?: string; destination?: NodeJS.WritableStream } = {}): Logger {
  return pino(
    { level: options.level ?? 'info', redact: { paths: REDACT_PATHS, censor: '[redacted]' }, base: { service: 'liangxin-gateway' } },
    options.destination as pino.DestinationStream | undefined,
  );
}

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;
/** Health checks and metrics scrapes would drown the log. */
const QUIET = new Set(['/healthz', '/readyz', '/metrics']);

const CALLBACK_PREFIX = `${CALLBACK_PATH}/`;

/**
 * The URL as the request log may show it. A provider callback's path is its task's secret token
 * (only its hash is stored), so it is replaced, query and all; every other URL is kept as it is.
 */
export function loggedUrl(url: string | undefined): string | undefined {
  return url?.startsWith(CALLBACK_PREFIX) ? `${CALLBACK_PREFIX}[redacted]` : url;
}

declare module 'node:http' {
  interface IncomingMessage {
    /** The request id: the caller's sane X-Request-Id, or one made up here. */
    id?: string;
  }
}

/**
 * One log line per request, written when it ends: id, method, url, status, time, and the tenant,
 * task and upstream key *ids* the handlers put in res.locals. Hand-written rather than pino-http:
 * the bench's profile showed pino-http's per-request child logger, serializers and redaction
 * at ~8% of a request's CPU even with request logging off. Only ids and the URL are logged,
 * never headers; the one secret a URL carries (a callback's token) is cut out by loggedUrl, and
 * the logger's own redaction still guards every other line.
 */
export function createRequestLogger(logger: Logger) {
  // Unique across instances (random prefix) and cheap within one (a counter).
  const prefix = randomBytes(4).toString('hex');
  let sequence = 0;
  return (req: IncomingMessage, res: ServerResponse & { locals?: Record<string, unknown> }, next: () => void): void => {
    const given = req.headers['x-request-id'];
    const id = typeof given === 'string' && REQUEST_ID.test(given) ? given : `${prefix}-${(++sequence).toString(36)}`;
    req.id = id;
    res.setHeader('x-request-id', id);
    // Read now, before any handler runs: Express strips a mounted router's prefix from req.url
    // while inside it (`/admin/v1/tenants` reads `/tenants` there), and a response sent from
    // inside leaves it stripped when the line is written at close.
    const url = req.url;
    if (QUIET.has(url ?? '')) {
      next();
      return;
    }
    const started = performance.now();
    res.once('close', () => {
      const finished = res.writableFinished;
      const level = !finished ? 'warn' : res.statusCode >= 500 ? 'error' : 'info';
      if (!logger.isLevelEnabled(level)) return;
      const locals = res.locals ?? {};
      logger[level](
        {
          req: { id, method: req.method, url: loggedUrl(url) },
          res: { statusCode: finished ? res.statusCode : null },
          responseTime: Math.round(performance.now() - started),
          tenantId: locals.tenantId,
          taskId: locals.taskId,
          upstreamKeyId: locals.upstreamKeyId,
        },
        finished ? 'request completed' : 'request aborted',
      );
    });
    next();
  };
}

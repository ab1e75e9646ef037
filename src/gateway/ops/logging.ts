// Request logs: one JSON line per request with a request id, the tenant id, the taskId and the
// upstream key *id*. Authorization headers and anything that looks like a key are redacted by
// pino itself, so no code path can log a secret by accident.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pino, type Logger } from 'pino';
import { pinoHttp } from 'pino-http';

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
];

export function createLogger(options: { level?: string; destination?: NodeJS.WritableStream } = {}): Logger {
  return pino(
    { level: options.level ?? 'info', redact: { paths: REDACT_PATHS, censor: '[redacted]' }, base: { service: 'liangxin-gateway' } },
    options.destination as pino.DestinationStream | undefined,
  );
}

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

export function createRequestLogger(logger: Logger) {
  return pinoHttp({
    logger,
    genReqId(req: IncomingMessage, res: ServerResponse) {
      const given = req.headers['x-request-id'];
      const id = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
      res.setHeader('x-request-id', id);
      return id;
    },
    customProps(_req: IncomingMessage, res: ServerResponse) {
      const locals = (res as ServerResponse & { locals?: Record<string, unknown> }).locals ?? {};
      return { tenantId: locals.tenantId, taskId: locals.taskId, upstreamKeyId: locals.upstreamKeyId };
    },
    // Health checks and metrics scrapes would drown the log.
    autoLogging: { ignore: (req: IncomingMessage) => req.url === '/healthz' || req.url === '/readyz' || req.url === '/metrics' },
    serializers: {
      req: (req: { id: unknown; method: string; url: string }) => ({ id: req.id, method: req.method, url: req.url }),
    },
  });
}

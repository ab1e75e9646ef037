// createGateway(config, deps): the request handler that speaks the provider's API to many
// tenants. Every part is passed in or built from the config here, so tests and benchmarks
// compose it. The API's routes run on plain node:http (http/api.ts), admin and ops on Express.
// The data path of a createTask, in order:
//   auth (auth.ts) → validate (dialect.ts: public aliases, then the spec) → quota + key pacing (quota.ts,
//   one admission) → key pool health (keypool.ts) → record (the store, before sending) →
//   upstream (tasks/send.ts, upstream.ts) → confirm (the provider's task id) → respond (respond.ts)
import { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import express, { type Express, type Response } from 'express';
import type { Logger } from 'pino';
import { publicUrlOf, type Config } from '../config/index.js';
import { DEFAULT_PRICES } from '../pricing/prices.js';
import { aliasTable } from '../providers/market/aliases.js';
import type { QuotaBackend, Remaining } from '../quota/types.js';
import { loadGatewaySpec } from '../spec/document.js';
import { createSpecValidator, type SpecValidator } from '../spec/validator.js';
import type { Store } from '../store/types.js';
import { adminRouter } from './admin/routes.js';
import { createAuthenticator } from './auth.js';
import { startOutbox } from './callbacks/outbox.js';
import { startReconciler } from './callbacks/reconcile.js';
import { CallbackUrlError, createCallbackUrlGuard, createGuardedDispatcher, type Resolver } from './callbacks/ssrf.js';
import type { Clock, GatewayContext } from './context.js';
import { GatewayError } from './errors.js';
import { createKeyPool } from './keypool.js';
import { createLogger, createRequestLogger } from './ops/logging.js';
import { createMetrics } from './ops/metrics.js';
import { opsRouter } from './ops/routes.js';
import { createQuotaBackend } from './quota.js';
import { errorHandler, type ApiResponse } from './respond.js';
import { createApiHandler } from './http/api.js';
import { readJsonBody } from './http/body.js';
import { startDispatcher, type Dispatcher } from './queue/dispatch.js';
import { queueSettings } from './queue/settings.js';
import { seedTenants } from './tenants.js';
import { createUpstreamClient, type UpstreamClient } from './upstream.js';

export interface GatewayDeps {
  store: Store;
  logger?: Logger;
  clock?: Clock;
  upstream?: UpstreamClient;
  /** The provider's contract, compiled; built from openapi/liangxin.yaml when absent. */
  validator?: SpecValidator;
  /** Process-wide metrics (CPU, memory, event loop); off where several gateways share a process. */
  defaultMetrics?: boolean;
  /** Quota and pacing state; built from the config (Redis, or in memory from the store) when absent. */
  quota?: QuotaBackend;
  /** DNS for the callback SSRF guard (tests answer without a network). */
  resolver?: Resolver;
  /** Run the outbox and reconciliation workers here (default true). */
  workers?: boolean;
}

/** What a listener serves (server.ts): the whole gateway, or its ops endpoints alone. */
export interface Listenable {
  /** A node:http request listener: `http.createServer(gateway.handler)`. */
  handler: (req: IncomingMessage, res: ServerResponse) => void;
  /** Called by the server once listening: without a configured publicUrl, that address is it. */
  listening(url: string): void;
  /** Refuse new work from now on (health says "stopping"); the server drains what is in flight. */
  beginShutdown(): void;
  /** Releases what the gateway opened (the upstream connections); the store belongs to the caller. */
  close(): Promise<void>;
  /** How long a client may take to send a request's headers, and the whole request (`listen`). */
  readonly timeouts: { headersTimeoutMs: number; requestTimeoutMs: number };
}

export interface Gateway extends Listenable {
  /** The admin and ops routes alone (Express). */
  app: Express;
  /**
   * /healthz, /readyz and /metrics alone, for the listener `ops.listen` asks for:
   * `listenGateway(gateway.ops, config.ops.listen)`. Its lifecycle is the gateway's own (its
   * listening, beginShutdown and close do nothing): close it after the gateway's listener.
   */
  ops: Listenable;
  context: GatewayContext;
  /** The admission queue's dispatcher of this instance; absent with `workers: false`. */
  dispatcher?: Dispatcher;
  /** The origin the gateway is reached at (the config's publicUrl, or where it listens). */
  publicUrl(): string;
}

const noop = () => undefined;

/** An Express app with the gateway's settings: its routes, then the envelope's 404 and refusals. */
function expressApp(ctx: GatewayContext, mount: (app: Express) => void): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  app.set('etag', false);
  mount(app);
  app.use((req, _res, nextFn) => nextFn(new GatewayError({ code: 404, msg: `No route ${req.method} ${req.path}`, reason: 'no_route' })));
  app.use(errorHandler(ctx));
  return app;
}

/** A request listener: logged, then the plain routes that `claims` it, else the Express app. */
function handlerOf(requestLog: ReturnType<typeof createRequestLogger>, claims: (req: IncomingMessage, res: ApiResponse) => boolean, fallback: Express) {
  return (req: IncomingMessage, res: ServerResponse) => {
    const response = res as ApiResponse;
    response.locals = {};
    requestLog(req, response, noop);
    if (!claims(req, response)) fallback(req, response as unknown as Response);
  };
}

export async function createGateway(config: Config, deps: GatewayDeps): Promise<Gateway> {
  const clock = deps.clock ?? { now: Date.now };
  const logger = deps.logger ?? createLogger({ level: config.log.level });
  const pool = createKeyPool(config.upstream.keys, config.upstream.health, () => clock.now());
  const ownsUpstream = !deps.upstream;
  const upstream = deps.upstream ?? createUpstreamClient({ baseUrl: config.upstream.baseUrl, timeoutMs: config.upstream.timeoutMs });
  await seedTenants(deps.store, config.tenants, clock.now());
  let publicUrl = publicUrlOf(config);
  const callbackGuard = createCallbackUrlGuard({ allowHttp: config.callbacks.allowHttp, allowHosts: [...config.callbacks.allowHosts], resolver: deps.resolver });
  const secrets = new Map(config.tenants.filter((t) => t.webhookSecret).map((t) => [t.id, t.webhookSecret!]));
  const ownsQuota = !deps.quota;
  const ctx: GatewayContext = {
    config,
    store: deps.store,
    upstream,
    pool,
    validator: deps.validator ?? createSpecValidator(),
    metrics: createMetrics(pool, { defaultMetrics: deps.defaultMetrics, queueDepths: () => deps.store.queueDepths() }),
    logger,
    clock,
    quota: deps.quota ?? (await createQuotaBackend(config, deps.store, logger, clock.now())),
    prices: { ...DEFAULT_PRICES, ...config.prices },
    aliases: aliasTable(config.compat.aliases),
    events: new EventEmitter(),
    publicUrl: () => publicUrl,
    callbackGuard,
    tenantSecret: (tenantId) => secrets.get(tenantId),
    queueSettings: queueSettings(config),
  };

  let stopping = false;
  const authenticate = createAuthenticator(ctx.store);
  const requestLog = createRequestLogger(logger);
  const api = createApiHandler(ctx, { authenticate, readBody: readJsonBody, isStopping: () => stopping });

  // Admin and ops on Express; the API's own routes (http/api.ts) never reach it. With ops.listen,
  // /readyz and /metrics move to an app (and a listener) of their own.
  const isStopping = () => stopping;
  const app = expressApp(ctx, (routes) => {
    routes.use(opsRouter(ctx, isStopping, { served: !config.ops.listen, token: config.ops.token }));
    if (config.admin) routes.use('/admin/v1', express.json({ limit: '64kb' }), adminRouter(ctx, config.admin.token, createSpecValidator(loadGatewaySpec())));
  });
  const opsApp = expressApp(ctx, (routes) => routes.use(opsRouter(ctx, isStopping, { served: true, token: config.ops.token })));

  // Background work any instance may do: tenants' callbacks, and polling of silent tasks.
  const dispatcher = createGuardedDispatcher(callbackGuard, { connectTimeoutMs: Math.min(config.callbacks.timeoutMs, 10_000) });
  const queueDispatcher = deps.workers === false ? undefined : startDispatcher(ctx, ctx.queueSettings);
  const workers =
    deps.workers === false
      ? []
      : [
          startOutbox(ctx, { secretOf: (tenantId) => secrets.get(tenantId), dispatcher, isPermanentError: (e) => e instanceof CallbackUrlError && e.code !== 'UNRESOLVABLE' }),
          startReconciler(ctx),
          queueDispatcher!,
        ];

  return {
    handler: handlerOf(requestLog, api, app),
    app,
    ops: { handler: handlerOf(requestLog, () => false, opsApp), listening: noop, beginShutdown: noop, close: async () => undefined, timeouts: config.listen },
    timeouts: config.listen,
    context: ctx,
    ...(queueDispatcher && { dispatcher: queueDispatcher }),
    publicUrl: () => publicUrl,
    listening(url) {
      if (!config.publicUrl) publicUrl = url;
    },
    beginShutdown() {
      stopping = true;
    },
    async close() {
      stopping = true;
      await Promise.all(workers.map((w) => w.stop()));
      await dispatcher.close();
      if (ownsUpstream) await upstream.close();
      if (ownsQuota) await ctx.quota.close();
    },
  };
}

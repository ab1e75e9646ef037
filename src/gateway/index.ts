// createGateway(config, deps): the request handler that speaks LiangXin's API to many tenants,
// in front of one or several upstreams. Every part is passed in or built from the config here, so
// tests and benchmarks compose it. The API's routes run on plain node:http (http/api.ts), admin
// and ops on Express. The data path of a createTask, in order:
//   auth (auth.ts) → validate (dialect.ts: public aliases, then the spec) → quota + upstream and
//   key (tasks/create.ts, one admission; routing in upstreams.ts) → record (the store, before
//   sending) → upstreams (tasks/send.ts: keys, failover; each upstream's provider in
//   src/providers/ reads its answers) → confirm (the provider's task id) → respond (respond.ts)
import { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import express, { type Express, type Response } from 'express';
import type { Logger } from 'pino';
import { publicUrlOf, upstreamsOf, type Config } from '../config/index.js';
import { DEFAULT_PRICES } from '../pricing/prices.js';
import { createProviders } from '../providers/index.js';
import { aliasTable } from '../providers/market/aliases.js';
import type { QuotaBackend } from '../quota/types.js';
import { loadGatewaySpec } from '../spec/document.js';
import { createSpecValidator, type SpecValidator } from '../spec/validator.js';
import type { Store } from '../store/types.js';
import { adminAccess } from './admin/access.js';
import { adminRouter } from './admin/routes.js';
import { createAuthenticator, type Principal } from './auth.js';
import { createInvalidationBus } from './auth-cache/bus.js';
import { registerCacheMetrics } from './auth-cache/metrics.js';
import { createKeyCache } from './auth-cache/key-cache.js';
import { invalidatingStore } from './auth-cache/store-hook.js';
import { startOutbox } from './callbacks/outbox.js';
import { CallbackUrlError, createCallbackUrlGuard, createGuardedDispatcher, type Resolver } from './callbacks/ssrf.js';
import type { Clock, GatewayContext } from './context.js';
import { defaultAssetsDir } from './dashboard/assets.js';
import { dashboardRouter } from './dashboard/routes.js';
import { createSessions } from './dashboard/session.js';
import { refusal } from './errors.js';
import { startReconciler } from './tasks/reconcile.js';
import { createLogger, createRequestLogger } from './ops/logging.js';
import { createMetrics } from './ops/metrics.js';
import { combineProbes, createUpstreamProbe } from './ops/probe.js';
import { createTracing } from './ops/tracing.js';
import { opsRouter } from './ops/routes.js';
import { createQuotaBackend } from './quota.js';
import { answeredRoute, errorHandler, type ApiResponse } from './respond.js';
import { createApiHandler } from './http/api.js';
import { readJsonBody } from './http/body.js';
import { startDispatcher, type Dispatcher } from './queue/dispatch.js';
import { liveQueueSettings } from './queue/settings.js';
import { createReloader, type ReloadOutcome } from './reload.js';
import { seedTenants } from './tenants.js';
import { createSecretsReader } from './callbacks/secrets.js';
import { createUpstreamKeySync } from './upstream-keys.js';
import { createUpstreams, type UpstreamsDeps } from './upstreams.js';
import type { BlobStore } from '../blobs/types.js';
import { createResultCopies } from './results/index.js';
import { createTaskEvents } from './events/index.js';

export interface GatewayDeps {
  store: Store;
  logger?: Logger;
  clock?: Clock;
  /** How to call an upstream (tests, benchmarks); an undici pool per upstream when absent. */
  upstreamClient?: UpstreamsDeps['client'];
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
  /** The dashboard's built files (default dist/dashboard in the package). */
  dashboardAssets?: string;
  /** Reads the config file again, for reload (SIGHUP, POST /admin/v1/reload); without it reload is refused. */
  loadConfig?: () => Config | Promise<Config>;
  /** Where result copies go (`results.enabled`); built from the config when absent. */
  blobs?: BlobStore;
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
  /** Reads the config file again and applies what can change in place (reload.ts). */
  reload(): Promise<ReloadOutcome>;
}

const noop = () => undefined;

/** An Express app with the gateway's settings: its routes, then the envelope's 404 and refusals. */
function expressApp(ctx: GatewayContext, mount: (app: Express) => void): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  app.set('etag', false);
  mount(app);
  app.use((req, _res, nextFn) => nextFn(refusal('no_route', `No route ${req.method} ${req.path}`)));
  app.use(errorHandler(ctx));
  return app;
}

/** A request listener: logged and timed, then the plain routes that `claims` it, else the Express app. */
function handlerOf(
  ctx: GatewayContext,
  requestLog: ReturnType<typeof createRequestLogger>,
  claims: (req: IncomingMessage, res: ApiResponse) => boolean,
  fallback: Express,
) {
  return (req: IncomingMessage, res: ServerResponse) => {
    const response = res as ApiResponse;
    response.locals = {};
    requestLog(req, response, noop);
    const started = performance.now();
    response.once('close', () => ctx.metrics.responseSeconds.observe({ route: answeredRoute(req, response) }, (performance.now() - started) / 1000));
    if (!claims(req, response)) fallback(req, response as unknown as Response);
  };
}

export async function createGateway(config: Config, deps: GatewayDeps): Promise<Gateway> {
  const clock = deps.clock ?? { now: Date.now };
  const logger = deps.logger ?? createLogger({ level: config.log.level });
  const validator = deps.validator ?? createSpecValidator();
  const aliases = aliasTable(config.compat.aliases);
  const tracing = createTracing(config.tracing);
  const upstreams = createUpstreams(upstreamsOf(config), {
    provider: createProviders({ validator, aliases }),
    aliases,
    now: () => clock.now(),
    client: deps.upstreamClient,
    wrap: (client) => tracing.traceUpstream(client),
  });
  // The key cache, cleared on every instance by any change to tenants or keys (auth-cache/).
  const keyCache = createKeyCache<Principal>({ maxAgeMs: config.auth.keyCacheMs, now: () => clock.now() });
  const bus = await createInvalidationBus(config, logger);
  bus.onInvalidate(() => keyCache.clear());
  const store = invalidatingStore(deps.store, async () => {
    keyCache.clear();
    await bus.publish().catch((error: unknown) => {
      logger.error(
        { err: error, bus: bus.kind },
        'auth cache: could not tell the other instances that tenants or keys changed; they see it within auth.keyCacheMs',
      );
    });
  });
  await seedTenants(store, config.tenants, clock.now(), { secretOverlapMs: config.callbacks.secretOverlapMs });
  let publicUrl = publicUrlOf(config);
  const callbackGuard = createCallbackUrlGuard({
    allowHttp: config.callbacks.allowHttp,
    allowHosts: [...config.callbacks.allowHosts],
    resolver: deps.resolver,
  });
  const ownsQuota = !deps.quota;
  const ctx: GatewayContext = {
    config,
    store,
    upstreams,
    validator,
    metrics: createMetrics(upstreams, { defaultMetrics: deps.defaultMetrics, queueDepths: () => store.queueDepths() }),
    logger,
    clock,
    quota: deps.quota ?? (await createQuotaBackend(config, store, logger, clock.now())),
    prices: { ...DEFAULT_PRICES, ...config.prices },
    aliases,
    events: new EventEmitter(),
    publicUrl: () => publicUrl,
    callbackGuard,
    tracing,
    // Over the running config's defaults (a reload changes them in place).
    queueSettings: liveQueueSettings(() => ctx.config),
  };

  registerCacheMetrics(ctx.metrics.registry, bus, keyCache.size);
  const probe = combineProbes(
    upstreams.list.map((u) => ({
      id: u.id,
      probe: createUpstreamProbe({ upstream: { ...u, client: u.untracedClient }, now: () => clock.now(), intervalMs: u.probeIntervalMs }),
    })),
  );
  // Provider keys of the admin API merged with the config's (the running config: reload changes it).
  const keySync = createUpstreamKeySync(store, upstreams, () => ctx.config);
  await keySync.sync();
  const reloader = createReloader(ctx, { keySync, loadConfig: deps.loadConfig });
  if (config.results.enabled) ctx.results = await createResultCopies(ctx, { blobs: deps.blobs, resolver: deps.resolver });

  let stopping = false;
  const authenticate = createAuthenticator(ctx.store, { cache: keyCache, live: bus.live }, () => clock.now());
  const requestLog = createRequestLogger(logger);
  const events = config.events.enabled ? createTaskEvents(ctx) : undefined;
  await events?.ready();
  const api = createApiHandler(ctx, { authenticate, readBody: readJsonBody, isStopping: () => stopping, events });

  // Admin and ops on Express; the API's own routes (http/api.ts) never reach it. With ops.listen,
  // /readyz and /metrics move to an app (and a listener) of their own.
  const isStopping = () => stopping;
  const app = expressApp(ctx, (routes) => {
    routes.use(opsRouter(ctx, isStopping, { served: !config.ops.listen, token: config.ops.token }, probe));
    if (config.admin) {
      const gatewaySpec = createSpecValidator(loadGatewaySpec());
      const sessions = createSessions({ adminToken: config.admin.token, ttlMs: config.admin.sessionTtlMinutes * 60_000, now: () => clock.now() });
      routes.use('/admin/v1', adminAccess(config.admin.token, sessions), express.json({ limit: '64kb' }), adminRouter(ctx, gatewaySpec, { keySync, reloader }));
      if (config.admin.dashboard)
        routes.use('/dashboard', dashboardRouter(ctx, { sessions, gatewaySpec, assetsDir: deps.dashboardAssets ?? defaultAssetsDir() }));
    }
  });
  const opsApp = expressApp(ctx, (routes) => routes.use(opsRouter(ctx, isStopping, { served: true, token: config.ops.token }, probe)));

  // Background work any instance may do: tenants' callbacks, and polling of silent tasks.
  const dispatcher = createGuardedDispatcher(callbackGuard, { connectTimeoutMs: Math.min(config.callbacks.timeoutMs, 10_000) });
  const queueDispatcher = deps.workers === false ? undefined : startDispatcher(ctx);
  const workers =
    deps.workers === false
      ? []
      : [
          startOutbox(ctx, {
            secretsOf: createSecretsReader(ctx.store),
            dispatcher,
            isPermanentError: (e) => e instanceof CallbackUrlError && e.code !== 'UNRESOLVABLE',
          }),
          startReconciler(ctx),
          ...(ctx.results ? [ctx.results.startWorkers()] : []),
          queueDispatcher!,
        ];
  if (deps.workers !== false)
    keySync.start(upstreamsOf(config)[0]!.keySyncMs, (error) => logger.error({ err: error }, 'cannot read the provider keys of the admin API'));

  return {
    handler: handlerOf(ctx, requestLog, api, app),
    app,
    ops: {
      handler: handlerOf(ctx, requestLog, () => false, opsApp),
      listening: noop,
      beginShutdown: noop,
      close: async () => undefined,
      timeouts: config.listen,
    },
    timeouts: config.listen,
    context: ctx,
    ...(queueDispatcher && { dispatcher: queueDispatcher }),
    publicUrl: () => publicUrl,
    reload: () => reloader.reload(),
    listening(url) {
      if (!config.publicUrl) publicUrl = url;
    },
    beginShutdown() {
      stopping = true;
      events?.endStreams();
    },
    async close() {
      stopping = true;
      keySync.stop();
      await Promise.all(workers.map((w) => w.stop()));
      await dispatcher.close();
      await upstreams.close();
      if (ownsQuota) await ctx.quota.close();
      await events?.close();
      await ctx.results?.close();
      await bus.close();
      await tracing.close();
    },
  };
}

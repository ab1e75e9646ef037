// createGateway(config, deps): the Express app that speaks the provider's API to many tenants.
// Every part is passed in or built from the config here, so tests and benchmarks compose it.
// The data path of a createTask, in order:
//   auth (auth.ts) → validate (tasks/create.ts, from the spec) → [quota: a later issue]
//   → key pool (keypool.ts) → upstream (upstream.ts) → record (store) → respond (respond.ts)
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import type { Logger } from 'pino';
import { publicUrlOf, type Config } from '../config/index.js';
import { loadGatewaySpec } from '../spec/document.js';
import { createSpecValidator, type SpecValidator } from '../spec/validator.js';
import type { Store } from '../store/types.js';
import { adminRouter } from './admin/routes.js';
import { createAuthenticator, type Principal } from './auth.js';
import type { Clock, GatewayContext } from './context.js';
import { GatewayError } from './errors.js';
import { createKeyPool } from './keypool.js';
import { createLogger, createRequestLogger } from './ops/logging.js';
import { createMetrics } from './ops/metrics.js';
import { opsRouter } from './ops/routes.js';
import { errorHandler, handle, sendAnswer } from './respond.js';
import { createTask, validateCreateTask } from './tasks/create.js';
import { createRecordReader } from './tasks/read.js';
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
}

export interface Gateway {
  app: Express;
  context: GatewayContext;
  publicUrl: string;
  /** Refuse new work from now on (health says "stopping"); the server drains what is in flight. */
  beginShutdown(): void;
  /** Releases what the gateway opened (the upstream connections); the store belongs to the caller. */
  close(): Promise<void>;
}

export async function createGateway(config: Config, deps: GatewayDeps): Promise<Gateway> {
  const clock = deps.clock ?? { now: Date.now };
  const logger = deps.logger ?? createLogger({ level: config.log.level });
  const pool = createKeyPool(config.upstream.keys, config.upstream.health, () => clock.now());
  const ownsUpstream = !deps.upstream;
  const upstream = deps.upstream ?? createUpstreamClient({ baseUrl: config.upstream.baseUrl, timeoutMs: config.upstream.timeoutMs });
  const ctx: GatewayContext = {
    config,
    store: deps.store,
    upstream,
    pool,
    validator: deps.validator ?? createSpecValidator(),
    metrics: createMetrics(pool, { defaultMetrics: deps.defaultMetrics }),
    logger,
    clock,
  };
  await seedTenants(ctx.store, config.tenants, clock.now());

  let stopping = false;
  const authenticate = createAuthenticator(ctx.store);
  const readTask = createRecordReader(ctx);

  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  app.use(createRequestLogger(logger));
  app.use(opsRouter(ctx, () => stopping));

  // Tenant API: authenticate before the body is even parsed.
  const tenantAuth = (req: Request, res: Response, nextFn: NextFunction) => {
    if (stopping) return nextFn(new GatewayError({ code: 503, msg: 'The gateway is shutting down', retryAfterSeconds: 1, reason: 'stopping' }));
    authenticate(req.headers.authorization).then((principal) => {
      res.locals.principal = principal;
      res.locals.tenantId = principal.tenantId;
      nextFn();
    }, nextFn);
  };

  app.post(
    '/api/v1/jobs/createTask',
    tenantAuth,
    express.json({ limit: '1mb' }),
    handle(async (req, res) => {
      const principal = res.locals.principal as Principal;
      const body = validateCreateTask(ctx, principal, req.body);
      sendAnswer(ctx, req, res, await createTask(ctx, principal, body));
    }),
  );
  app.get(
    '/api/v1/jobs/recordInfo',
    tenantAuth,
    handle(async (req, res) => sendAnswer(ctx, req, res, await readTask(res.locals.principal as Principal, req.query.taskId))),
  );

  if (config.admin) app.use('/admin/v1', express.json({ limit: '64kb' }), adminRouter(ctx, config.admin.token, createSpecValidator(loadGatewaySpec())));

  app.use((req, _res, nextFn) => nextFn(new GatewayError({ code: 404, msg: `No route ${req.method} ${req.path}`, reason: 'no_route' })));
  app.use(errorHandler(ctx));

  return {
    app,
    context: ctx,
    publicUrl: publicUrlOf(config),
    beginShutdown() {
      stopping = true;
    },
    async close() {
      stopping = true;
      if (ownsUpstream) await upstream.close();
    },
  };
}

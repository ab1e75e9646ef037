// The gateway's configuration: what an operator writes in YAML, checked with zod. Defaults live
// here and nowhere else. The names are part of the product (listen, publicUrl, store, upstream,
// tenants, admin) and documented in examples/. Every key carries its description (`.describe`):
// the configuration reference (examples/README.md) is generated from this schema, so it cannot
// drift (`npm run generate`; a test fails when it is stale).
import { z } from 'zod';
import { limitSchemas } from '../quota/limits.js';
import { PROVIDER_NAMES } from '../providers/names.js';

const id = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'must be 1-64 letters, digits, ".", "_" or "-"');

/** A tenant key: `sha256:<64 hex>` of the secret, or the secret itself (hashed at load, never kept). */
const tenantKey = z.string().refine((s) => /^sha256:[0-9a-f]{64}$/i.test(s) || (!s.startsWith('sha256:') && s.length >= 16), {
  message: 'must be sha256:<64 hex digits> or a secret of at least 16 characters',
});

export const upstreamKey = z
  .object({
    id: id.describe('Names the key in logs, metrics and the admin API (never the key itself).'),
    apiKey: z.string().min(1, 'must not be empty').describe("The provider's API key (write it as ${ENV_VAR}: it stays out of the file)."),
    webhookHmacKey: z
      .string()
      .min(1)
      .optional()
      .describe("The account's webhook HMAC key: when set, the provider's callbacks must carry a valid X-Webhook-Signature."),
    createPer10s: z.number().int().positive().default(20).describe("The provider's createTask allowance per key (about 20 per 10 s)."),
    recordInfoPerSecond: z.number().int().positive().default(10).describe("The provider's recordInfo allowance per key (about 10 per second)."),
    recordInfoMargin: z
      .number()
      .gt(0)
      .max(1)
      .default(0.8)
      .describe(
        'The share of recordInfoPerSecond the gateway uses at most (reads arrive bunched and the provider counts on arrival); a read answered 429 halves it for a while, each clean second gives one read back.',
      ),
  })
  .strict();

const health = z
  .object({
    coolDownMs: z.number().int().positive().default(10_000).describe('A key answered 429: rest it this long, or as long as Retry-After says.'),
    exhaustedRetryMs: z
      .number()
      .int()
      .positive()
      .default(5 * 60_000)
      .describe('A key answered 402/403/433: try it again after this long (doubling while it keeps failing).'),
    disabledRetryMs: z
      .number()
      .int()
      .positive()
      .default(10 * 60_000)
      .describe('A key answered 401: try it again after this long (doubling).'),
    maintenanceRetryMs: z.number().int().positive().default(60_000).describe('The provider answered 455: try again after this long.'),
    maxRetryMs: z
      .number()
      .int()
      .positive()
      .default(60 * 60_000)
      .describe('Never wait longer than this between tries.'),
  })
  .strict();

const upstreamFields = {
  baseUrl: z.url().describe("The provider's origin (the simulator's URL offline)."),
  timeoutMs: z.number().int().positive().default(30_000).describe('Abandon an upstream call after this long. A createTask that times out is never resent.'),
  keys: z
    .array(upstreamKey)
    .min(1, 'needs at least one provider key')
    .describe('The pool of provider keys (one per account); each createTask goes to the one with most allowance left.'),
  health: health.default(health.parse({})).describe('How long a key that failed rests before it is tried again.'),
  probeIntervalMs: z
    .number()
    .int()
    .positive()
    .default(15_000)
    .describe(
      '/readyz asks the provider whether it answers (a recordInfo of a task that does not exist: no cost) when its last answer is older than this; the first /readyz waits for it, later ones get the last answer and refresh it behind.',
    ),
  keySyncMs: z
    .number()
    .int()
    .positive()
    .default(5000)
    .describe(
      'How often each instance re-reads the provider keys added, disabled or removed through the admin API (the instance that made the change applies it at once).',
    ),
};

const upstreamShorthand = z.object(upstreamFields).strict();

const upstreamEntry = z
  .object({
    id: id.describe('Names the upstream in task rows, logs, metrics and the admin API.'),
    provider: z
      .enum(PROVIDER_NAMES)
      .default('liangxin')
      .describe(
        "The API it speaks: liangxin (LiangXin's own) or market (the public Market API LiangXin re-brands; bodies are translated to its ids and fields).",
      ),
    ...upstreamFields,
    models: z
      .array(z.string().min(1))
      .min(1)
      .optional()
      .describe('The models it serves (LiangXin ids or public aliases); every model its provider can express when absent.'),
    priceFactor: z
      .number()
      .positive()
      .default(1)
      .describe(
        'Its price relative to the price table (0.8: 20% cheaper). Routing tries the cheapest healthy upstream first; tasks are still estimated at the table price.',
      ),
  })
  .strict();

/** Per-tenant limits; each is off when absent. Keys, types and descriptions: the catalogue in quota/limits.ts. */
export const quotas = z.object(limitSchemas()).strict();

/**
 * What a tenant's dialect settings default to (config tenants[] and tenants created through the
 * admin API alike). `reject`: an unknown input field is refused (400, named), because a field
 * dropped in silence (a typo of a real one) changes what the tenant gets and pays for; the alias
 * table already drops what the public API itself ignores. `provider`: refusals carry the HTTP
 * status LiangXin gives for the same situation, which is what its clients expect.
 */
export const TENANT_SETTING_DEFAULTS = { unknownFields: 'reject', httpStatus: 'provider' } as const;

const tenantValidation = z
  .object({
    unknownFields: z
      .enum(['reject', 'drop', 'forward'])
      .default(TENANT_SETTING_DEFAULTS.unknownFields)
      .describe(
        '`input` fields the model does not know: reject (400 naming them), drop (and name them in X-LiangXin-Dropped-Fields) or forward (the provider may refuse).',
      ),
  })
  .strict();
/**
 * The admission queue (issue 16), per tenant over the top-level `queue` defaults. `reject` keeps
 * the behaviour from before the queue: a createTask is sent at once, or refused (429) when every
 * provider key is at its pace.
 */
const queueAdmission = z.enum(['queue', 'reject']);
/** The one statement of a tenant's queue settings: config tenants[].queue and the admin API's `queue` alike. */
export const tenantQueue = z
  .object({
    admission: queueAdmission
      .optional()
      .describe(
        'queue: accepted at once and sent as provider allowance frees; reject: sent at once or refused 429 when the keys are at their pace. Default: queue.admission.',
      ),
    weight: z
      .number()
      .int()
      .min(1)
      .max(1000)
      .optional()
      .describe("This tenant's share of the provider's allowance when several tenants have tasks queued (weighted fair order; default queue.weight)."),
    maxQueued: z
      .number()
      .int()
      .positive()
      .optional()
      .describe('Tasks this tenant may have waiting in the queue at once (beyond it: 429 limit maxQueued). Default queue.maxQueued.'),
    cancelAfterMs: z
      .number()
      .int()
      .positive()
      .optional()
      .describe(
        'A task of this tenant still queued this long after acceptance ends `fail` (GATEWAY_DEADLINE), unless its Cancel-After header says otherwise. Default queue.cancelAfterMs.',
      ),
  })
  .strict();

const tenantErrors = z
  .object({
    httpStatus: z
      .enum(['provider', 'body'])
      .default(TENANT_SETTING_DEFAULTS.httpStatus)
      .describe(
        'provider: the HTTP status LiangXin gives for that situation; body: the HTTP status equals the body code. Gateway-only refusals (auth, quotas) keep real statuses in both.',
      ),
  })
  .strict();

// Where a server listens. The port may come from the environment (`${PORT:-8080}`), hence a
// string is accepted.
const host = z.string().min(1).default('127.0.0.1');
const port = z.coerce.number().int().min(0).max(65535);

/**
 * A host only this machine can reach. Ops endpoints need no protection there, so the default
 * (no `ops` section) stays as convenient as it always was for a local setup.
 */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase();
  return bare === 'localhost' || bare === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(bare);
}

const listen = z
  .object({
    host: host.describe('The address to listen on (`0.0.0.0` for every interface: then protect ops, see `ops`).'),
    port: port.default(8080).describe('The port (0 picks a free one); `serve --port` overrides it.'),
    headersTimeoutMs: z
      .number()
      .int()
      .positive()
      .default(10_000)
      .describe("A client must have sent a request's headers within this long, or it is answered 408 and closed."),
    requestTimeoutMs: z
      .number()
      .int()
      .positive()
      .default(30_000)
      .describe(
        '…and the whole request, headers and body, within this long: a client that promises a body and trickles it (or never sends it) holds a connection no longer than this.',
      ),
  })
  .strict()
  .refine((l) => l.headersTimeoutMs <= l.requestTimeoutMs, { path: ['headersTimeoutMs'], message: 'must not be longer than requestTimeoutMs' });

const priceRule = z.union([
  z.object({ perImage: z.number().nonnegative(), byResolution: z.record(z.string(), z.number().nonnegative()).optional() }).strict(),
  z.object({ perSecond: z.number().nonnegative(), perSecondWithAudio: z.number().nonnegative() }).strict(),
]);

/** What one value of a public field becomes (src/providers/market/aliases.ts: ValueRule). */
const valueRule = z.discriminatedUnion('action', [
  z.object({ action: z.literal('drop'), why: z.string().min(1) }).strict(),
  z.object({ action: z.literal('refuse'), why: z.string().min(1) }).strict(),
  z.object({ action: z.literal('set'), value: z.union([z.string(), z.number(), z.boolean()]) }).strict(),
]);

/** What a public `input` field becomes in LiangXin's body (aliases.ts: FieldRule). */
const fieldRule = z.discriminatedUnion('action', [
  z.object({ action: z.literal('rename'), to: z.string().min(1) }).strict(),
  z.object({ action: z.literal('drop'), why: z.string().min(1) }).strict(),
  z.object({ action: z.literal('refuse'), why: z.string().min(1) }).strict(),
  z.object({ action: z.literal('map'), to: z.string().min(1).optional(), values: z.record(z.string(), valueRule) }).strict(),
  z.object({ action: z.literal('integer'), to: z.string().min(1).optional(), min: z.number().int(), why: z.string().min(1) }).strict(),
]);

/** An alias of a LiangXin model: the model it denotes and how its fields translate. */
const aliasEntry = z.object({ model: z.string().min(1), fields: z.record(z.string(), fieldRule).optional() }).strict();

/**
 * Result copies (src/blobs/, gateway/results/): where the files of successful tasks are kept,
 * for how long, and how they are fetched. Off by default: a gateway that copies downloads every
 * result it is paid for, which an operator should decide (and size the disk or bucket for).
 */
const RESULT_RETRY_SCHEDULE_MS = [2_000, 10_000, 60_000, 300_000];
const resultsStore = z.discriminatedUnion('kind', [
  z
    .object({
      kind: z.literal('directory'),
      path: z.string().min(1).optional().describe('Where copies are written; default `results/` beside the SQLite file (required with another store).'),
    })
    .strict(),
  z
    .object({
      kind: z.literal('s3'),
      bucket: z.string().min(1).describe('The bucket copies go to (it must exist).'),
      endpoint: z.url().optional().describe('An S3-compatible endpoint (MinIO, R2, s3rver); AWS when absent.'),
      region: z.string().min(1).default('us-east-1').describe('The region the SDK signs for.'),
      forcePathStyle: z.boolean().default(false).describe('Address the bucket as a path (`endpoint/bucket/key`), as most S3-compatible servers want.'),
      prefix: z.string().default('').describe('Prepended to every object key.'),
    })
    .strict()
    .describe('Credentials come from the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, or any source the AWS SDK reads), never from this file.'),
]);
const events = z
  .object({
    enabled: z.boolean().default(true).describe('Keep the per-tenant event log and offer SSE (`GET /api/v1/jobs/events`) and `Prefer: wait`.'),
    retainMs: z
      .number()
      .int()
      .positive()
      .default(24 * 60 * 60_000)
      .describe("Keep each tenant's task events this long: how far back `Last-Event-ID` can resume."),
    heartbeatMs: z.number().int().positive().default(15_000).describe('Send an SSE comment this often on an idle stream, so proxies keep it open.'),
    pollIntervalMs: z
      .number()
      .int()
      .positive()
      .default(1000)
      .describe(
        'Read the event log this often while someone listens, for events another instance wrote (Redis or PostgreSQL notifications wake listeners sooner).',
      ),
    maxWaitSeconds: z.number().int().positive().max(60).default(60).describe('The longest `Prefer: wait=N` honoured.'),
  })
  .strict();

const results = z
  .object({
    enabled: z.boolean().default(false).describe("Copy each successful task's result files into the blob store, and answer records with the copies' URLs."),
    store: resultsStore.default({ kind: 'directory' }).describe('The blob store: `directory` (embedded) or `s3` (several instances).'),
    retainDays: z
      .number()
      .int()
      .positive()
      .default(30)
      .describe('Keep a copy this many days after the task succeeded (tenants[].results.retainDays overrides it); the sweeper deletes it then.'),
    maxBytes: z
      .number()
      .int()
      .positive()
      .default(200 * 1024 * 1024)
      .describe('A result file larger than this is not copied (the record keeps the provider URL and says why).'),
    linkTtlSeconds: z
      .number()
      .int()
      .positive()
      .max(7 * 24 * 3600)
      .default(3600)
      .describe("How long a copy's link in a record stays valid (signed by the gateway, or presigned by S3)."),
    signingKey: z
      .string()
      .min(32)
      .optional()
      .describe("Signs the directory store's links (from ${ENV}); default: a random key kept in the directory, shared by the instances that share it."),
    allowHttp: z.boolean().default(false).describe('Download http:// result URLs too (local development and tests).'),
    allowHosts: z
      .array(z.string().min(1))
      .default([])
      .describe('Hosts downloaded from even though they resolve to private addresses (local development only).'),
    timeoutMs: z.number().int().positive().default(120_000).describe('Give one download this long.'),
    retryScheduleMs: z
      .array(z.number().int().positive())
      .min(1)
      .default(RESULT_RETRY_SCHEDULE_MS)
      .describe('Waits between attempts of a copy (±20% jitter); after the last, the copy is given up and the record keeps the provider URLs.'),
    leaseMs: z
      .number()
      .int()
      .positive()
      .default(5 * 60_000)
      .describe('A worker holds a copy this long while it downloads it; one that died is taken over after that.'),
    pollIntervalMs: z.number().int().positive().default(1000).describe('How often a worker looks for due copies (it is also woken when a task succeeds here).'),
    callbackWaitMs: z
      .number()
      .int()
      .nonnegative()
      .default(60_000)
      .describe("Hold a successful task's callback up to this long for its copy, so the URLs it carries are the durable ones (0: do not wait)."),
    sweepIntervalMs: z
      .number()
      .int()
      .positive()
      .default(60 * 60_000)
      .describe('How often expired copies are deleted.'),
  })
  .strict();

export const configSchema = z
  .object({
    listen: listen.default(listen.parse({})).describe('Where the gateway serves its API, admin and (unless `ops.listen`) ops endpoints.'),
    publicUrl: z.url().optional().describe('The origin tenants and the provider reach this gateway at; default http://listen.host:listen.port.'),
    store: z
      .string()
      .min(1)
      .default('sqlite:./.data/gateway.db')
      .describe(
        '`sqlite:PATH` (embedded, the default), `sqlite::memory:`, or `postgres://user:password@host:5432/db[?schema=NAME]` (shared by several instances).',
      ),
    upstream: upstreamShorthand
      .optional()
      .describe('The provider the gateway speaks to, when there is one (LiangXin): shorthand for `upstreams` with one entry, id `default`.'),
    upstreams: z
      .array(upstreamEntry)
      .min(1, 'needs at least one upstream')
      .optional()
      .describe(
        'Several upstreams (accounts of LiangXin or of the public Market API it re-brands): each model goes to the cheapest healthy upstream that serves it, and on to the next when one proves it started nothing (maintenance, no usable key, a refusal before any task). Use this or `upstream`, not both.',
      ),
    tenants: z
      .array(
        z
          .object({
            id: id.describe('The tenant, as the admin API, usage and metrics name it.'),
            apiKeys: z
              .array(tenantKey)
              .default([])
              .describe('Its keys: `sha256:<hex>` of the secret, or the secret itself (hashed at load; only hashes are stored).'),
            models: z.array(z.string().min(1)).min(1).optional().describe('Models this tenant may use; all when absent.'),
            disabled: z.boolean().default(false).describe('Refuse every call of this tenant (401), as if its keys were revoked.'),
            quotas: quotas.optional().describe('Its limits (also settable with PATCH /admin/v1/tenants/{id}).'),
            webhookSecret: z.string().min(1).optional().describe("Signs this tenant's callbacks (Standard Webhooks)."),
            validation: tenantValidation
              .default(() => tenantValidation.parse({}))
              .describe('What happens to `input` fields the model does not know (see the README: reject is the default).'),
            errors: tenantErrors
              .default(() => tenantErrors.parse({}))
              .describe("Which HTTP status refusals carry: LiangXin's for the situation (provider), or the body code (body)."),
            results: z
              .object({
                retainDays: z.number().int().positive().optional().describe("Keep this tenant's result copies this many days (default results.retainDays)."),
              })
              .strict()
              .optional()
              .describe("This tenant's result copies."),
            queue: tenantQueue.optional().describe('Its admission queue settings, over the top-level `queue` ones.'),
          })
          .strict(),
      )
      .default([])
      .describe('Who may call the API: each tenant with its keys, models, quotas and callback secret (tenants can also be made with the admin API).'),
    admin: z
      .object({
        token: z.string().min(16, 'must be at least 16 characters').describe('`Authorization: Bearer <token>` for /admin/v1 (from ${ENV}).'),
        dashboard: z.boolean().default(true).describe("Serve the operator's dashboard at /dashboard/ (signed in with the admin token)."),
        sessionTtlMinutes: z
          .number()
          .int()
          .min(1)
          .max(10_080)
          .default(480)
          .describe(
            'How long a dashboard sign-in lasts. Sessions are signed cookies, not stored: sign-out clears the cookie, and changing the admin token ends them all.',
          ),
      })
      .strict()
      .optional()
      .describe('The admin API (/admin/v1); off without it.'),
    redis: z
      .object({
        url: z
          .string()
          .regex(/^rediss?:\/\//, 'must be redis://… or rediss://…')
          .describe('redis://… or rediss://… (a password in it is never printed).'),
        failOpen: z
          .boolean()
          .default(false)
          .describe(
            'When Redis is down: false (default) refuses with 503; true lets each instance admit on its own share of each limit, its counts rebuilt from the store (see the README).',
          ),
        prefix: z.string().min(1).default('lxg').describe('Prefix of every key, so several gateways can share one Redis.'),
        commandTimeoutMs: z
          .number()
          .int()
          .positive()
          .default(500)
          .describe(
            "Give up on a Redis call after this many ms and answer as if Redis were down (503, or failOpen's shares). An admission that still runs in Redis afterwards is undone.",
          ),
      })
      .strict()
      .optional()
      .describe('Shared quota and pacing state for several instances; without it, this instance keeps its own.'),
    auth: z
      .object({
        keyCacheMs: z
          .number()
          .int()
          .nonnegative()
          .default(60_000)
          .describe(
            "How long a tenant key looked up in the store may be served from this instance's memory; 0 looks every call up. Any change to tenants or keys made through the gateway clears every instance's cache at once (Redis pub/sub with `redis`, else PostgreSQL LISTEN/NOTIFY with a PostgreSQL store); while that channel is down the store is asked every time. This ceiling bounds only changes written to the store by other means, or by another process on the same SQLite file (no channel joins those: set it to what a revoke may take there, or 0).",
          ),
      })
      .strict()
      .default({ keyCacheMs: 60_000 })
      .describe('Tenant key authentication.'),
    tasks: z
      .object({
        maxLifetimeMs: z
          .number()
          .int()
          .positive()
          .default(60 * 60_000)
          .describe('A task not final after this long is given up (and its quota slot freed).'),
        minReadIntervalMs: z
          .number()
          .int()
          .nonnegative()
          .default(1000)
          .describe(
            "A running task the provider showed this instance less than this long ago is answered from its stored record (its age in X-LiangXin-Record-Age-Ms) rather than read again: a tenant polling faster than this spends none of the key's recordInfo budget (about 10 per second) and none of the provider's time. 0 reads on every poll the budget allows.",
          ),
      })
      .strict()
      .default({ maxLifetimeMs: 60 * 60_000, minReadIntervalMs: 1000 })
      .describe("Tasks' life at the gateway."),
    queue: z
      .object({
        admission: queueAdmission
          .default('queue')
          .describe(
            "What a createTask gets when it passes its quotas: queue (HTTP 200 at once with the gateway's task id; sent as provider allowance frees, fairly across tenants) or reject (sent at once, 429 when every key is at its pace: the behaviour before the queue). Per tenant in tenants[].queue.",
          ),
        weight: z.number().int().min(1).max(1000).default(1).describe("A tenant's default share of the provider's allowance (equal weights: round-robin)."),
        maxQueued: z.number().int().positive().optional().describe('Default cap on the tasks one tenant may have waiting; none when absent.'),
        cancelAfterMs: z
          .number()
          .int()
          .positive()
          .optional()
          .describe('Default deadline of a queued task after acceptance; none when absent (tasks.maxLifetimeMs still ends it).'),
        concurrency: z.number().int().positive().default(8).describe("createTask calls one instance's dispatcher has in flight at once."),
        pollIntervalMs: z
          .number()
          .int()
          .positive()
          .default(1000)
          .describe('How often an idle dispatcher looks for tasks queued by other instances (it is woken at once by its own).'),
      })
      .strict()
      .default(() => ({ admission: 'queue' as const, weight: 1, concurrency: 8, pollIntervalMs: 1000 }))
      .describe(
        'The admission queue, on by default (admission reject sends at once instead): tasks accepted within their quotas and sent to the provider as key allowance frees, in weighted fair order across tenants.',
      ),
    callbacks: z
      .object({
        allowHttp: z.boolean().default(false).describe('Allow http:// callBackUrls (local development only).'),
        allowHosts: z.array(z.string().min(1)).default([]).describe('Hosts allowed even though they resolve to private addresses (local development only).'),
        timeoutMs: z.number().int().positive().default(15_000).describe("Give a tenant's receiver this long to answer."),
        retryScheduleMs: z
          .array(z.number().int().positive())
          .min(1)
          .default([5_000, 30_000, 120_000, 600_000, 1_800_000, 3_600_000, 7_200_000, 14_400_000, 28_800_000, 28_800_000])
          .describe('Waits between attempts (each ±20% jitter, at least Retry-After); after the last, the delivery fails.'),
        leaseMs: z.number().int().positive().default(60_000).describe('A worker holds a delivery this long while it sends it.'),
        pollIntervalMs: z
          .number()
          .int()
          .positive()
          .default(1000)
          .describe('How often a worker looks for due deliveries (it is also woken when one is enqueued here).'),
        toleranceSeconds: z.number().int().positive().default(300).describe('Accept provider signatures this far from now, either way.'),
        secretOverlapMs: z
          .number()
          .int()
          .nonnegative()
          .default(24 * 60 * 60_000)
          .describe(
            "After a tenant's webhookSecret is replaced (admin API rotation, or a new one in the config), callbacks are signed with the old one too for this long, so receivers can switch without refusing any.",
          ),
      })
      .strict()
      .default(() => ({
        allowHttp: false,
        allowHosts: [],
        timeoutMs: 15_000,
        retryScheduleMs: [5_000, 30_000, 120_000, 600_000, 1_800_000, 3_600_000, 7_200_000, 14_400_000, 28_800_000, 28_800_000],
        leaseMs: 60_000,
        pollIntervalMs: 1000,
        toleranceSeconds: 300,
        secretOverlapMs: 24 * 60 * 60_000,
      }))
      .describe("Callbacks: the provider's to the gateway, and the gateway's to tenants."),
    reconcile: z
      .object({
        afterMs: z.number().int().positive().default(60_000).describe('First poll this long after creation if the task is not final by then.'),
        maxBackoffMs: z
          .number()
          .int()
          .positive()
          .default(5 * 60_000)
          .describe('Later polls back off, doubling up to this.'),
        intervalMs: z.number().int().positive().default(1000).describe('How often the worker looks for tasks to poll.'),
        batch: z.number().int().positive().default(20).describe('How many tasks one look polls at most.'),
      })
      .strict()
      .default({ afterMs: 60_000, maxBackoffMs: 5 * 60_000, intervalMs: 1000, batch: 20 })
      .describe('Polling of tasks whose final state has not arrived (a lost callback still ends the task).'),
    ops: z
      .object({
        listen: z
          .object({ host: host.describe('The address of the ops listener.'), port: port.describe('Its port (0 picks a free one).') })
          .strict()
          .optional()
          .describe('Serve /readyz and /metrics only on this second listener (a port the outside cannot reach).'),
        token: z
          .string()
          .min(16, 'must be at least 16 characters')
          .optional()
          .describe('Require `Authorization: Bearer <token>` on /readyz and /metrics, wherever they are served.'),
      })
      .strict()
      .default({})
      .describe(
        '/readyz and /metrics name tenants, provider keys and what is failing. Without this section they are served unprotected, which is allowed only when `listen.host` is loopback. (/healthz says only ok/stopping and is served on every listener without a token: load balancers and liveness probes drain on it.)',
      ),
    compat: z
      .object({
        aliases: z
          .record(z.string().min(1), aliasEntry)
          .default({})
          .describe('Public model id → its LiangXin model and field rules (an entry replaces the built-in one of that id; a new id adds an alias).'),
      })
      .strict()
      .default({ aliases: {} })
      .describe('The public Market dialect, merged over the built-in alias table (src/providers/market/aliases.ts).'),
    prices: z.record(z.string(), priceRule).optional().describe('Prices per model (USD), over the reference defaults; used to reserve budget at admission.'),
    tracing: z
      .object({
        otlpUrl: z.url().describe('Where spans are sent: an OTLP/HTTP traces endpoint (JSON), e.g. http://otel-collector:4318/v1/traces.'),
        serviceName: z.string().min(1).default('liangxin-gateway').describe('The `service.name` of the spans.'),
        sampleRatio: z.number().min(0).max(1).default(1).describe("The share of new traces kept (a tenant's sampled traceparent is always followed)."),
        exportDelayMs: z.number().int().positive().default(5000).describe('Spans are sent in batches, at least this often.'),
      })
      .strict()
      .optional()
      .describe(
        'OpenTelemetry traces (off without this section): one trace per task, createTask → upstream → provider callback → tenant delivery; a W3C traceparent from the tenant is followed and sent on to the provider. Span attributes are ids, models and codes, never secrets or prompts.',
      ),
    results: results.default(() => results.parse({})).describe("Durable copies of successful tasks' result files (the provider's links expire)."),
    events: events.default(() => events.parse({})).describe('Live task events (SSE) and `Prefer: wait`.'),
    log: z
      .object({
        level: z
          .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
          .default('info')
          .describe('The least severe level written (pino, JSON lines on stdout).'),
      })
      .strict()
      .default({ level: 'info' })
      .describe('The request and event log.'),
  })
  .strict()
  .superRefine((config, ctx) => {
    const unique = (values: string[], path: (i: number) => Array<string | number>, what: string) => {
      const seen = new Set<string>();
      values.forEach((value, i) => {
        if (seen.has(value)) ctx.addIssue({ code: 'custom', path: path(i), message: `duplicate ${what} "${value}"` });
        seen.add(value);
      });
    };
    if (config.upstream && config.upstreams)
      ctx.addIssue({ code: 'custom', path: ['upstreams'], message: 'use either upstream (one provider) or upstreams (several), not both' });
    if (!config.upstream && !config.upstreams) ctx.addIssue({ code: 'custom', path: ['upstream'], message: 'needs an upstream (or upstreams)' });
    if (config.upstream)
      unique(
        config.upstream.keys.map((k) => k.id),
        (i) => ['upstream', 'keys', i, 'id'],
        'key id',
      );
    if (config.upstreams) {
      unique(
        config.upstreams.map((u) => u.id),
        (i) => ['upstreams', i, 'id'],
        'upstream id',
      );
      // Key ids are global: pacing, metrics and the admin API name a key by its id alone.
      const keys = config.upstreams.flatMap((u, i) => u.keys.map((k, j) => ({ id: k.id, path: ['upstreams', i, 'keys', j, 'id'] })));
      unique(
        keys.map((k) => k.id),
        (i) => keys[i]!.path,
        'key id',
      );
    }
    unique(
      config.tenants.map((t) => t.id),
      (i) => ['tenants', i, 'id'],
      'tenant id',
    );
    if (config.results.enabled && config.results.store.kind === 'directory' && !config.results.store.path && !/^sqlite:(?!:memory:)./.test(config.store)) {
      ctx.addIssue({
        code: 'custom',
        path: ['results', 'store', 'path'],
        message: 'is required unless the store is a SQLite file (the copies go beside it by default)',
      });
    }
    if (!config.ops.listen && !config.ops.token && !isLoopbackHost(config.listen.host)) {
      ctx.addIssue({
        code: 'custom',
        path: ['ops'],
        message: `listen.host ${config.listen.host} is reachable from other machines, and /readyz and /metrics name tenants and keys: set ops.token, or ops.listen (a listener of their own)`,
      });
    }
  });

export type ConfigInput = z.input<typeof configSchema>;
export type Config = z.output<typeof configSchema>;
export type UpstreamConfig = NonNullable<Config['upstreams']>[number];
export type UpstreamKeyConfig = UpstreamConfig['keys'][number];
export type TenantConfig = Config['tenants'][number];
export type HealthConfig = UpstreamConfig['health'];
export type TenantQuotas = z.output<typeof quotas>;
export type QueueConfig = Config['queue'];

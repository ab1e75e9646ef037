// The store the gateway is given: tenants and their keys, and the tasks it created. It knows
// rows, not requests: no HTTP, no Express, no gateway types in here. One interface, several
// dialects (SQLite embedded today; PostgreSQL shares it), all through one query layer.
// Every time is integer Unix milliseconds and every amount of money integer micro-dollars
// (whole.ts refuses anything else before it reaches a column).
// Shapes the admin API shows as they are stored come from its contract (openapi/gateway.yaml,
// generated into src/generated/gateway.ts), not declared a second time here.
import type { components } from '../generated/gateway.js';

type Api = components['schemas'];

/** A tenant's quotas as stored (the gateway's config gives their meaning); each absent = off. */
export type QuotaSettings = Api['Quotas'];

/**
 * How the gateway treats a tenant's requests and refusals (the gateway's config gives their
 * meaning and defaults); each absent = the default. The admin API's two sections, in one object.
 */
export type DialectSettings = Api['TenantValidation'] & Api['TenantErrors'];

/** A tenant's own admission-queue settings (config tenants[].queue or the admin API); each absent = the config's `queue` default. */
export type TenantQueueOwn = Api['TenantQueue'];

/** Every per-tenant setting the store keeps, in one object (tenants.settings): the dialect's, flat, and the queue's section. */
export type TenantSettings = DialectSettings & { queue?: TenantQueueOwn };

/** Where a tenant or key came from: the config file (re-applied at every start) or the admin API. */
export type RowSource = Api['Tenant']['source'];

export interface TenantRow {
  id: string;
  /** Model allow-list; null means every model. */
  models: string[] | null;
  /** Quotas; null = none. */
  quotas: QuotaSettings | null;
  /** Dialect settings; absent = the defaults. */
  settings?: TenantSettings;
  disabled: boolean;
  /**
   * Who owns the row: the config file (re-applied at every start and reload) or the admin API. A
   * config tenant changed through the admin API becomes `admin`: the store wins from then on.
   */
  source: RowSource;
  createdAt: number;
  updatedAt: number;
  /** True when the tenant has a webhook secret (migration 0011); absent = none. The secret itself: getWebhookSecrets. */
  hasWebhookSecret?: true;
}

/** A tenant's Standard Webhooks secrets: callbacks are signed with each of them. */
export interface WebhookSecrets {
  current: string;
  /** The secret before the last rotation, still signing until `previousUntil` (Unix ms). */
  previous: string | null;
  previousUntil: number | null;
}

export interface TenantKeyRow {
  /** Public identifier of the key (safe to log and show), e.g. `tk_4f9a…`. */
  id: string;
  tenantId: string;
  /** Hex SHA-256 of the secret; the secret itself is never stored. */
  hash: string;
  label: string | null;
  source: RowSource;
  createdAt: number;
  revokedAt: number | null;
  /** Unix ms from which the key is refused (migration 0011); absent = never expires. */
  expiresAt?: number;
}

/** A key found by its hash, with what auth needs to decide in one read. */
export interface KeyLookup {
  keyId: string;
  tenantId: string;
  revoked: boolean;
  /** Unix ms from which the key is refused; null = never. */
  expiresAt: number | null;
  tenantDisabled: boolean;
  /** Whether the tenant has a webhook secret (a callBackUrl needs one). */
  hasWebhookSecret: boolean;
  models: string[] | null;
  quotas: QuotaSettings | null;
  settings?: TenantSettings;
}

/**
 * The provider's states, and before them `sending`: recorded by the gateway, handed to the
 * provider, its answer (the provider's task id) not recorded yet. A row stays `sending` while
 * the provider's answer is awaited, and when its outcome is unknown (a timeout, a 5xx, the
 * gateway killed meanwhile) until the provider's callback or the task's maximum lifetime ends it.
 * Before `sending`, `queued`: accepted into the admission queue, not handed to any sender yet
 * (tenants see it as `waiting`); only a queued task may be cancelled or expire unsent.
 */
export type TaskStateName = 'queued' | 'sending' | 'waiting' | 'queuing' | 'generating' | 'success' | 'fail';

export interface TaskRow {
  /**
   * The row's key and the id tenants use: the gateway's own (`gatewayTaskId`) for tasks recorded
   * since migration 0009; the provider's id for tasks confirmed before it.
   */
  taskId: string;
  /**
   * The id the gateway minted when it recorded the task, before sending it; the callback URL
   * given to the provider carries it, so the callback finds the row whatever the gateway learnt.
   * Null for tasks recorded before migration 0006.
   */
  gatewayTaskId: string | null;
  tenantId: string;
  /** Id (never the secret) of the upstream key that created the task: reads must use it. */
  upstreamKeyId: string;
  /**
   * The upstream (its config id) the task was sent to: reads, reconciliation and callbacks go
   * there. Null for tasks recorded before migration 0008 (the gateway's single upstream then).
   */
  upstreamId: string | null;
  model: string;
  /** The tenant's callBackUrl, if it gave one. */
  callBackUrl: string | null;
  state: TaskStateName;
  /** The last record the provider reported, as JSON text; null until the first successful read. */
  record: string | null;
  /**
   * The tenant's createTask body as JSON text (the record's `param`), so a task the provider
   * cannot show yet is still answered with a real record. Null for tasks recorded before 0006.
   */
  param: string | null;
  createdAt: number;
  /**
   * The provider's `updateTime` of the stored record (0 before the first one): records and
   * callbacks older than this are ignored.
   */
  updatedAt: number;
  /** When the task became success or fail; null while it runs. */
  finalAt: number | null;
  /** The quota slot the task holds until it is final (in-flight limit, budget reservation). */
  slotId: string | null;
  /** Micro-dollars (integer) reserved at admission: the price table's estimate. */
  estimatedCostMicros: number | null;
  /** Micro-dollars (integer) the provider charged (creditsConsumed × 5000), set when final; 0 for a failed task. */
  actualCostMicros: number | null;
  /** Hex SHA-256 of the per-task token in the callback URL the gateway gave the provider. */
  callbackTokenHash: string | null;
  /** Reconciliation: when to poll this task next if no final state arrived (null once final). */
  nextCheckAt: number | null;
  /** How many times reconciliation has polled it. */
  checks: number;
  /** The provider's task id once it answered or called back (what recordInfo upstream needs); null before. */
  providerTaskId: string | null;
  /** When the admission queue accepted it; null for a task sent at once. */
  queuedAt: number | null;
  /** Within its tenant's queue: higher goes first (0 by default). */
  priority: number;
  /** A task still queued then ends `fail` unsent (Cancel-After); null = none. */
  deadlineAt: number | null;
  /** A queued task's body for the provider (aliases translated), JSON; null for a task sent at once. */
  upstreamBody: string | null;
  /** The W3C traceparent of the span that created it (migration 0011, tracing on); absent = none. */
  traceParent?: string;
}

/** The columns later migrations added: a new task may leave them out (their defaults). */
type LaterColumns = 'gatewayTaskId' | 'param' | 'upstreamId' | 'providerTaskId' | 'queuedAt' | 'priority' | 'deadlineAt' | 'upstreamBody';

/** A task as the gateway records it; the columns of later migrations may be left out. */
export type NewTask = Omit<TaskRow, LaterColumns> & Partial<Pick<TaskRow, LaterColumns>>;

/** The provider started a `sending` task: what the gateway learnt from its answer (or its callback). */
export interface TaskConfirmation {
  /** The provider's task id, kept beside the gateway's (which stays the row's key). */
  providerTaskId: string;
  upstreamKeyId: string;
  /** The upstream that started it; absent or null leaves the recorded one. */
  upstreamId?: string | null;
  /** When reconciliation polls it if no final state arrived by then. */
  nextCheckAt: number;
}

export interface TaskUpdate {
  state: TaskStateName;
  record: string;
  updatedAt: number;
  finalAt: number | null;
  /** With a final state: what the task cost (integer micro-dollars); omitted = unknown. */
  actualCostMicros?: number | null;
}

export type DeliveryState = Api['Delivery']['state'];

/**
 * One outbound callback to a tenant (the outbox), as the admin API shows it. `id` is the Standard
 * Webhooks `webhook-id`; `payload` the exact JSON body, fixed when the task became final;
 * `leaseOwner`/`leaseUntil` the worker holding it and until when (a lease past its time is free
 * to take): always stored, null when free.
 */
export type DeliveryRow = Required<Api['Delivery']>;

export type NewDelivery = Pick<DeliveryRow, 'id' | 'tenantId' | 'url' | 'payload' | 'createdAt'> & {
  /** First attempt not before this (default createdAt): a success's callback waits for its result copy. */
  nextAttemptAt?: number;
};

export interface DeliveryOutcome {
  /** delivered; pending (retry at nextAttemptAt); failed (gave up). */
  state: DeliveryState;
  nextAttemptAt?: number;
  status?: number | null;
  error?: string | null;
  now: number;
}

export interface UsageQuery {
  tenantId?: string;
  /** Unix ms, inclusive, on the task's createdAt. */
  from?: number;
  /** Unix ms, exclusive. */
  to?: number;
  groupBy: 'model' | 'day';
}

/**
 * The admin API's usage row without its USD texts (admin/usage.ts formats them from the integers):
 * sums of the estimates and of the actual costs of final tasks, integer micro-dollars.
 */
export type UsageRow = Omit<Api['UsageRow'], 'estimatedUsd' | 'actualUsd'>;

/** What a tenant has used since a moment: to rebuild quota counters after a restart. */
export interface TenantUsage {
  tasks: number;
  /** Integer micro-dollars. */
  actualCostMicros: number;
  /** Tasks not final yet: their slots, and their estimates (micro-dollars) as reservations. */
  open: Array<{ taskId: string; slotId: string | null; estimatedCostMicros: number | null; createdAt: number }>;
}

/** A provider key as the admin API stores it (migration 0011); merged with the config's keys. */
export interface UpstreamKeyRow {
  id: string;
  /** The upstream (config id) it belongs to; null: the first upstream. */
  upstreamId: string | null;
  /** The provider's key; null on a row that only disables a key of the config. Never shown. */
  apiKey: string | null;
  webhookHmacKey: string | null;
  createPer10s: number | null;
  recordInfoPerSecond: number | null;
  disabled: boolean;
  /** Removed: offered to no createTask, still used to read the tasks it created. */
  removedAt: number | null;
  createdAt: number;
  updatedAt: number;
}

export type CopyState = 'pending' | 'copied' | 'failed' | 'expired';

/** One result file kept in the blob store. */
export interface CopiedFile {
  /** The blob store's key. */
  key: string;
  contentType: string;
  bytes: number;
}

/** A successful task's result copy (migration 0010). */
export interface CopyRow {
  taskId: string;
  tenantId: string;
  state: CopyState;
  /** The provider's result URLs, in the record's order. */
  sources: string[];
  /** The stored files, in the same order, once copied. */
  files: CopiedFile[] | null;
  bytes: number;
  attempts: number;
  nextAttemptAt: number;
  leaseOwner: string | null;
  leaseUntil: number | null;
  lastError: string | null;
  /** How long the copy is kept once made (the tenant's retention when it was enqueued). */
  retainMs: number;
  expiresAt: number | null;
  createdAt: number;
  updatedAt: number;
}

/** A page of tasks, newest first (created_at, then task_id, descending). */
export interface TaskListQuery {
  tenantId?: string;
  state?: TaskStateName;
  model?: string;
  /** Unix ms, inclusive, on createdAt. */
  from?: number;
  /** Unix ms, exclusive. */
  to?: number;
  /** Only tasks strictly older than this one (the last of the previous page). */
  after?: { createdAt: number; taskId: string };
  limit: number;
}

export type NewCopy = Pick<CopyRow, 'taskId' | 'tenantId' | 'sources' | 'retainMs' | 'createdAt'>;

export type CopyOutcome =
  | { state: 'copied'; files: CopiedFile[]; now: number }
  | { state: 'pending'; nextAttemptAt: number; error: string; now: number }
  | { state: 'failed'; error: string; now: number };

/** One entry of a tenant's event log: a task's state changed (`seq` is the SSE event id). */
export interface TaskEventRow {
  seq: number;
  tenantId: string;
  taskId: string;
  state: string;
  /** The record as the tenant sees it, JSON text. */
  record: string;
  createdAt: number;
}

export type NewTaskEvent = Omit<TaskEventRow, 'seq'>;

/** Result copies: enqueued when a task succeeds, leased by any instance's worker, swept when expired. */
export interface CopyStore {
  /** Enqueues a copy due now; false when the task has one already. */
  enqueueCopy(copy: NewCopy): Promise<boolean>;
  getCopy(taskId: string): Promise<CopyRow | undefined>;
  /** Leases up to `limit` due pending copies (nextAttemptAt ≤ now, lease free) to `owner`. */
  claimCopies(owner: string, now: number, leaseMs: number, limit: number): Promise<CopyRow[]>;
  /** Records an attempt's outcome and frees the lease; false when `owner` no longer holds it. */
  finishCopy(taskId: string, owner: string, outcome: CopyOutcome): Promise<boolean>;
  /** Successful tasks final since `since` with no copy (one enqueued after a crash between the two writes). */
  successesWithoutCopy(since: number, limit: number): Promise<Array<{ taskId: string; tenantId: string; record: string; finalAt: number }>>;
  /** Copies whose time is up (copied, expiresAt ≤ now). */
  expiredCopies(now: number, limit: number): Promise<CopyRow[]>;
  /** Marks a copy expired (its files deleted); false when it was not `copied` any more. */
  markCopyExpired(taskId: string, now: number): Promise<boolean>;
  /** Bytes of copies kept now, per tenant. */
  copyBytesByTenant(): Promise<Array<{ tenantId: string; bytes: number; files: number }>>;
  /**
   * A task's callback not attempted yet is due now, with `payload` when given (the record with the
   * copies' URLs). False when there is none (no callback, or already sent).
   */
  releaseDelivery(taskId: string, now: number, payload?: string): Promise<boolean>;
}

/** The per-tenant event log behind SSE and Prefer: wait. */
export interface EventStore {
  /** Appends and returns the event's seq. A tenant's events commit in seq order, whoever appends them. */
  appendEvent(event: NewTaskEvent): Promise<number>;
  /**
   * A task's first event (`created`), unless the provider's record or a final state has reached
   * its row already (that change has its own event): its seq, or undefined when not written.
   */
  appendCreatedEvent(event: NewTaskEvent): Promise<number | undefined>;
  /**
   * confirmTask and appendCreatedEvent as one write (PostgreSQL: one statement; SQLite: one
   * batch): the event's seq, or undefined when it was not written.
   */
  confirmAndAppendCreated(gatewayTaskId: string, confirmation: TaskConfirmation, event: NewTaskEvent): Promise<number | undefined>;
  /** A tenant's events after `afterSeq` (ascending), optionally of one task. */
  eventsAfter(tenantId: string, afterSeq: number, limit: number, taskId?: string): Promise<TaskEventRow[]>;
  /** The newest seq of a tenant's log (0 when empty). */
  lastEventSeq(tenantId: string): Promise<number>;
  /** Deletes events older than `before`; returns how many. */
  pruneEvents(before: number): Promise<number>;
}

export interface Store extends CopyStore, EventStore {
  /** Creates or updates the tables; safe to call on every start. */
  migrate(): Promise<void>;
  /** A cheap round trip, for readiness. */
  ping(): Promise<void>;
  close(): Promise<void>;

  upsertTenant(
    tenant: Pick<TenantRow, 'id' | 'models' | 'disabled' | 'source'> & { quotas?: QuotaSettings | null; settings?: TenantSettings | null },
    now: number,
  ): Promise<TenantRow>;
  getTenant(id: string): Promise<TenantRow | undefined>;
  listTenants(): Promise<TenantRow[]>;
  updateTenant(
    id: string,
    patch: Partial<Pick<TenantRow, 'models' | 'disabled' | 'quotas' | 'source'>> & { settings?: TenantSettings | null },
    now: number,
  ): Promise<TenantRow | undefined>;

  /** Adds a key; a hash that already exists is left as it is (config keys are re-applied at start). */
  addTenantKey(key: Omit<TenantKeyRow, 'revokedAt'>): Promise<void>;
  listTenantKeys(tenantId: string): Promise<TenantKeyRow[]>;
  /** Marks a key revoked; false when the tenant has no such key. */
  revokeTenantKey(tenantId: string, keyId: string, now: number): Promise<boolean>;
  findKeyByHash(hash: string): Promise<KeyLookup | undefined>;
  /** Changes a key's label or expiry; false when the tenant has no such key. */
  updateTenantKey(tenantId: string, keyId: string, patch: { label?: string | null; expiresAt?: number | null }): Promise<boolean>;
  /** Removes a tenant and its keys (its tasks stay: they are history); false when there was none. */
  deleteTenant(id: string): Promise<boolean>;
  getWebhookSecrets(tenantId: string): Promise<WebhookSecrets | undefined>;
  /** Sets the tenant's webhook secrets (null: none); false when there is no such tenant. */
  setWebhookSecrets(tenantId: string, secrets: WebhookSecrets | null, now: number): Promise<boolean>;

  /** Every provider key row of the admin API, removed ones included, by id. */
  listUpstreamKeys(): Promise<UpstreamKeyRow[]>;
  /** Creates or replaces a provider key row. */
  putUpstreamKey(row: Omit<UpstreamKeyRow, 'createdAt' | 'updatedAt' | 'removedAt'>, now: number): Promise<UpstreamKeyRow>;
  /** Marks a provider key row removed; false when there is none (or it is removed already). */
  removeUpstreamKey(id: string, now: number): Promise<boolean>;

  /** A page of tasks, newest first, on the (tenant_id,) created_at, task_id indexes. */
  listTasks(query: TaskListQuery): Promise<TaskRow[]>;

  insertTask(task: NewTask): Promise<void>;
  getTask(taskId: string): Promise<TaskRow | undefined>;
  /** The task the gateway minted this id for (the one in its callback URL). */
  getTaskByGatewayId(gatewayTaskId: string): Promise<TaskRow | undefined>;
  /**
   * A `sending` task the provider started: it records the provider's task id and takes state `waiting`.
   * False (nothing changed) when the task is no longer `sending`: confirmed already (by the
   * provider's callback, which can beat its createTask answer) or given up.
   */
  confirmTask(gatewayTaskId: string, confirmation: TaskConfirmation): Promise<boolean>;
  /** A `sending` task goes to another provider key, of its upstream or another one (the first refused it, starting nothing). */
  setSendingKey(gatewayTaskId: string, upstreamKeyId: string, upstreamId?: string): Promise<void>;
  /** Removes a `sending` task the provider proved it did not start; false if it is not `sending`. */
  discardTask(gatewayTaskId: string): Promise<boolean>;
  /**
   * Records what the provider reported. A final task is never changed again, and a record is never
   * replaced by an older one (`updatedAt` smaller than the stored one): out-of-order answers
   * and callbacks cannot move a task backwards. Returns whether the row changed.
   * When it changed the row to a final state and `delivery` is given, the delivery is enqueued
   * in the same transaction: a final state is never stored without its callback, nor twice.
   */
  updateTask(taskId: string, update: TaskUpdate, delivery?: NewDelivery | null): Promise<boolean>;
  countTasks(): Promise<number>;

  /** Usage ledger, grouped; one row per tenant and group. */
  usage(query: UsageQuery): Promise<UsageRow[]>;
  /** A tenant's tasks created since `since`, their actual cost, and its open tasks. */
  tenantUsage(tenantId: string, since: number): Promise<TenantUsage>;

  /**
   * Reconciliation: takes up to `limit` non-final tasks whose nextCheckAt has come, moving their
   * nextCheckAt to now + leaseMs in the same statement so two instances do not poll the same one.
   */
  claimTasksToCheck(now: number, leaseMs: number, limit: number): Promise<TaskRow[]>;
  /** Sets when a non-final task is polled next and counts the poll. */
  scheduleCheck(taskId: string, nextCheckAt: number): Promise<void>;

  /** Outbox: leases up to `limit` due pending deliveries (nextAttemptAt ≤ now, lease free) to `owner`. */
  claimDeliveries(owner: string, now: number, leaseMs: number, limit: number): Promise<DeliveryRow[]>;
  /** Records an attempt (attempts + 1) and frees the lease; false when `owner` no longer holds it. */
  finishDelivery(id: string, owner: string, outcome: DeliveryOutcome): Promise<boolean>;
  listDeliveries(filter: { tenantId?: string; taskId?: string; limit?: number }): Promise<DeliveryRow[]>;
  /** Makes a delivery pending again, due now (its id stays: tenants dedupe on it). */
  redeliver(id: string, now: number): Promise<DeliveryRow | undefined>;

  // The admission queue (queue-queries.ts): queued tasks are `tasks` rows in state `queued`,
  // inserted with insertTask.
  /**
   * The head of a tenant's queue (the task claimQueued would take now), or undefined when nothing
   * waits: its model tells the dispatcher which upstreams and keys may send it.
   */
  queueHead(tenantId: string): Promise<Pick<TaskRow, 'taskId' | 'model'> | undefined>;
  /**
   * Takes the head of a tenant's queue (priority, then acceptance order) for sending: it becomes
   * `sending` with the key, callback token and next check given, in one statement. Undefined
   * when the tenant has nothing queued (or another dispatcher took it first), or when
   * `claim.maxInFlight` of its tasks are at the provider already.
   */
  claimQueued(tenantId: string, claim: QueueClaim): Promise<TaskRow | undefined>;
  /** Removes a task still `queued` that was never answered to its tenant (its queue was over maxQueued). */
  withdrawQueued(taskId: string): Promise<boolean>;
  /** A claimed task the provider proved it did not start goes back to `queued`, in its old place. */
  requeueTask(taskId: string): Promise<boolean>;
  /**
   * A task still `queued` ends `fail` (cancelled, or past its deadline): its record stored, cost
   * 0, and its callback enqueued in the same transaction. False when it is no longer queued.
   */
  endQueuedTask(taskId: string, update: { record: string; updatedAt: number }, delivery?: NewDelivery | null): Promise<boolean>;
  /** 1-based place of a queued task in its tenant's queue (0 when it never was queued). */
  queuePosition(row: Pick<TaskRow, 'taskId' | 'tenantId' | 'priority' | 'queuedAt'>): Promise<number>;
  /** Queued tasks per tenant (metrics). */
  queueDepths(): Promise<Array<{ tenantId: string; queued: number }>>;
  countQueued(tenantId: string): Promise<number>;
  /** A tenant's tasks handed to the provider and not final (sending, waiting, …): maxInFlight. */
  countAtProvider(tenantId: string): Promise<number>;

  /**
   * Idempotency-Key: records (tenant, key) with the body's hash, or says what is there already.
   * A row older than `expiredBefore` (its 24 h are over), or unanswered and older than
   * `abandonedBefore` (its request died with its instance), is taken over as new.
   */
  claimIdempotencyKey(claim: {
    tenantId: string;
    key: string;
    bodyHash: string;
    now: number;
    expiredBefore: number;
    abandonedBefore: number;
  }): Promise<IdempotencyClaim>;
  /** The first answer, replayed to every later request with the same key and body. */
  saveIdempotentAnswer(tenantId: string, key: string, answer: string): Promise<void>;
  /** Forgets an unanswered key (its request was refused: a retry may go ahead). */
  dropIdempotencyKey(tenantId: string, key: string): Promise<void>;
}

export interface QueueClaim {
  upstreamKeyId: string;
  /** The upstream (config id) the key belongs to: the task's reads and callbacks go there. */
  upstreamId: string;
  /** Hex SHA-256 of the token the callback URL given to the provider will carry. */
  callbackTokenHash: string;
  nextCheckAt: number;
  /**
   * The tenant's maxInFlight, if it has one: the head is taken only while fewer of its tasks are
   * at the provider, counted in the same statement (across instances: tenant-order.ts).
   */
  maxInFlight?: number;
}

export type IdempotencyClaim = { kind: 'new' } | { kind: 'answered'; answer: string } | { kind: 'mismatch' } | { kind: 'in-flight' };

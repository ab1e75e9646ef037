// The store the gateway is given: tenants and their keys, and the tasks it created. It knows
// rows, not requests: no HTTP, no Express, no gateway types in here. One interface, several
// dialects (SQLite embedded today; PostgreSQL shares it), all through one query layer.
// Every time is integer Unix milliseconds and every amount of money integer micro-dollars
// (whole.ts refuses anything else before it reaches a column).

/** A tenant's quotas as stored (the gateway's config gives their meaning); each absent = off. */
export type QuotaSettings = Partial<Record<'requestsPerMinute' | 'tasksPerDay' | 'tasksPerMonth' | 'maxInFlight' | 'budgetUsdPerMonth', number>>;

/**
 * How the gateway treats a tenant's requests and refusals (the gateway's config gives their
 * meaning and defaults); each absent = the default.
 */
export interface TenantSettings {
  unknownFields?: 'reject' | 'drop' | 'forward';
  httpStatus?: 'provider' | 'body';
}

export interface TenantRow {
  id: string;
  /** Model allow-list; null means every model. */
  models: string[] | null;
  /** Quotas; null = none. */
  quotas: QuotaSettings | null;
  /** Dialect settings; absent = the defaults. */
  settings?: TenantSettings;
  disabled: boolean;
  /** Where the row came from: the config file (re-applied at every start) or the admin API. */
  source: 'config' | 'admin';
  createdAt: number;
  updatedAt: number;
}

export interface TenantKeyRow {
  /** Public identifier of the key (safe to log and show), e.g. `tk_4f9a…`. */
  id: string;
  tenantId: string;
  /** Hex SHA-256 of the secret; the secret itself is never stored. */
  hash: string;
  label: string | null;
  source: 'config' | 'admin';
  createdAt: number;
  revokedAt: number | null;
}

/** A key found by its hash, with what auth needs to decide in one read. */
export interface KeyLookup {
  keyId: string;
  tenantId: string;
  revoked: boolean;
  tenantDisabled: boolean;
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
}

/** The columns later migrations added: a new task may leave them out (their defaults). */
type LaterColumns = 'gatewayTaskId' | 'param' | 'providerTaskId' | 'queuedAt' | 'priority' | 'deadlineAt' | 'upstreamBody';

/** A task as the gateway records it; the columns of later migrations may be left out. */
export type NewTask = Omit<TaskRow, LaterColumns> & Partial<Pick<TaskRow, LaterColumns>>;

/** The provider started a `sending` task: what the gateway learnt from its answer (or its callback). */
export interface TaskConfirmation {
  /** The provider's task id, kept beside the gateway's (which stays the row's key). */
  providerTaskId: string;
  upstreamKeyId: string;
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

export type DeliveryState = 'pending' | 'delivered' | 'failed';

/** One outbound callback to a tenant (the outbox). `id` is the Standard Webhooks `webhook-id`. */
export interface DeliveryRow {
  id: string;
  taskId: string;
  tenantId: string;
  url: string;
  /** The exact JSON body to send, fixed when the task became final. */
  payload: string;
  state: DeliveryState;
  attempts: number;
  nextAttemptAt: number;
  /** The worker holding it and until when; a lease past its time is free to take. */
  leaseOwner: string | null;
  leaseUntil: number | null;
  lastStatus: number | null;
  lastError: string | null;
  createdAt: number;
  updatedAt: number;
  deliveredAt: number | null;
}

export type NewDelivery = Pick<DeliveryRow, 'id' | 'tenantId' | 'url' | 'payload' | 'createdAt'>;

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

export interface UsageRow {
  tenantId: string;
  /** The model, or the UTC day `YYYY-MM-DD`. */
  group: string;
  tasks: number;
  succeeded: number;
  failed: number;
  /** Not final yet. */
  open: number;
  /** Sum of the estimates, integer micro-dollars. */
  estimatedUsdMicros: number;
  /** Sum of actual costs of final tasks, integer micro-dollars. */
  actualUsdMicros: number;
}

/** What a tenant has used since a moment: to rebuild quota counters after a restart. */
export interface TenantUsage {
  tasks: number;
  /** Integer micro-dollars. */
  actualCostMicros: number;
  /** Tasks not final yet: their slots, and their estimates (micro-dollars) as reservations. */
  open: Array<{ taskId: string; slotId: string | null; estimatedCostMicros: number | null; createdAt: number }>;
}

export interface Store {
  /** Creates or updates the tables; safe to call on every start. */
  migrate(): Promise<void>;
  /** A cheap round trip, for readiness. */
  ping(): Promise<void>;
  close(): Promise<void>;

  upsertTenant(tenant: Pick<TenantRow, 'id' | 'models' | 'disabled' | 'source'> & { quotas?: QuotaSettings | null; settings?: TenantSettings | null }, now: number): Promise<TenantRow>;
  getTenant(id: string): Promise<TenantRow | undefined>;
  listTenants(): Promise<TenantRow[]>;
  updateTenant(id: string, patch: Partial<Pick<TenantRow, 'models' | 'disabled' | 'quotas'>> & { settings?: TenantSettings | null }, now: number): Promise<TenantRow | undefined>;

  /** Adds a key; a hash that already exists is left as it is (config keys are re-applied at start). */
  addTenantKey(key: Omit<TenantKeyRow, 'revokedAt'>): Promise<void>;
  listTenantKeys(tenantId: string): Promise<TenantKeyRow[]>;
  /** Marks a key revoked; false when the tenant has no such key. */
  revokeTenantKey(tenantId: string, keyId: string, now: number): Promise<boolean>;
  findKeyByHash(hash: string): Promise<KeyLookup | undefined>;

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
  /** A `sending` task goes to another provider key (the first one refused it, starting nothing). */
  setSendingKey(gatewayTaskId: string, upstreamKeyId: string): Promise<void>;
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
  /** Whether the tenant has a task waiting (one index read). */
  hasQueued(tenantId: string): Promise<boolean>;
  /**
   * Takes the head of a tenant's queue (priority, then acceptance order) for sending: it becomes
   * `sending` with the key, callback token and next check given, in one statement. Undefined
   * when the tenant has nothing queued (or another dispatcher took it first).
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
  claimIdempotencyKey(claim: { tenantId: string; key: string; bodyHash: string; now: number; expiredBefore: number; abandonedBefore: number }): Promise<IdempotencyClaim>;
  /** The first answer, replayed to every later request with the same key and body. */
  saveIdempotentAnswer(tenantId: string, key: string, answer: string): Promise<void>;
  /** Forgets an unanswered key (its request was refused: a retry may go ahead). */
  dropIdempotencyKey(tenantId: string, key: string): Promise<void>;
}

export interface QueueClaim {
  upstreamKeyId: string;
  /** Hex SHA-256 of the token the callback URL given to the provider will carry. */
  callbackTokenHash: string;
  nextCheckAt: number;
}

export type IdempotencyClaim =
  | { kind: 'new' }
  | { kind: 'answered'; answer: string }
  | { kind: 'mismatch' }
  | { kind: 'in-flight' };

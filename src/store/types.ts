// The store the gateway is given: tenants and their keys, and the tasks it created. It knows
// rows, not requests: no HTTP, no Express, no gateway types in here. One interface, several
// dialects (SQLite embedded today; PostgreSQL shares it), all through one query layer.

export interface TenantRow {
  id: string;
  /** Model allow-list; null means every model. */
  models: string[] | null;
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
}

export type TaskStateName = 'waiting' | 'queuing' | 'generating' | 'success' | 'fail';

export interface TaskRow {
  taskId: string;
  tenantId: string;
  /** Id (never the secret) of the upstream key that created the task: reads must use it. */
  upstreamKeyId: string;
  model: string;
  /** The tenant's callBackUrl, if it gave one. */
  callBackUrl: string | null;
  state: TaskStateName;
  /** The last record the provider reported, as JSON text; null until the first successful read. */
  record: string | null;
  createdAt: number;
  /**
   * The provider's `updateTime` of the stored record (0 before the first one): records and
   * callbacks older than this are ignored.
   */
  updatedAt: number;
  /** When the task became success or fail; null while it runs. */
  finalAt: number | null;
}

export interface TaskUpdate {
  state: TaskStateName;
  record: string;
  updatedAt: number;
  finalAt: number | null;
}

export interface Store {
  /** Creates or updates the tables; safe to call on every start. */
  migrate(): Promise<void>;
  /** A cheap round trip, for readiness. */
  ping(): Promise<void>;
  close(): Promise<void>;

  upsertTenant(tenant: Pick<TenantRow, 'id' | 'models' | 'disabled' | 'source'>, now: number): Promise<TenantRow>;
  getTenant(id: string): Promise<TenantRow | undefined>;
  listTenants(): Promise<TenantRow[]>;
  updateTenant(id: string, patch: Partial<Pick<TenantRow, 'models' | 'disabled'>>, now: number): Promise<TenantRow | undefined>;

  /** Adds a key; a hash that already exists is left as it is (config keys are re-applied at start). */
  addTenantKey(key: Omit<TenantKeyRow, 'revokedAt'>): Promise<void>;
  listTenantKeys(tenantId: string): Promise<TenantKeyRow[]>;
  /** Marks a key revoked; false when the tenant has no such key. */
  revokeTenantKey(tenantId: string, keyId: string, now: number): Promise<boolean>;
  findKeyByHash(hash: string): Promise<KeyLookup | undefined>;

  insertTask(task: TaskRow): Promise<void>;
  getTask(taskId: string): Promise<TaskRow | undefined>;
  /**
   * Records what the provider reported. A final task is never changed again, and a record is never
   * replaced by an older one (`updatedAt` smaller than the stored one): out-of-order answers
   * and callbacks cannot move a task backwards. Returns whether the row changed.
   */
  updateTask(taskId: string, update: TaskUpdate): Promise<boolean>;
  countTasks(): Promise<number>;
}

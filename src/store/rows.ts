// The one place where columns become rows and back: flags, JSON text, bigint milliseconds and
// bigint micro-dollars (the way in is checked by whole.ts).
// A new dialect that reads these columns differently only changes what these functions accept.
import type { Selectable } from 'kysely';
import type {
  QuotaSettings,
  DeliveryRow,
  DeliveryState,
  KeyLookup,
  TaskRow,
  TaskStateName,
  TenantKeyRow,
  TenantRow,
  TenantSettings,
  TenantUsage,
  UpstreamKeyRow,
  UsageRow,
  WebhookSecrets,
} from './types.js';
import type { DeliveriesTable, Flag, TasksTable, TenantKeysTable, TenantsTable, UpstreamKeysTable } from './schema.js';

export function toFlag(value: boolean): Flag {
  return value ? 1 : 0;
}

/** 0/1 from SQLite or an integer column; a boolean too, so a boolean column would also read right. */
export function fromFlag(value: number | boolean | string): boolean {
  return value === true || Number(value) === 1;
}

export function encodeModels(models: readonly string[] | null): string | null {
  return models === null ? null : JSON.stringify(models);
}

export function decodeModels(text: string | null): string[] | null {
  return text === null ? null : (JSON.parse(text) as string[]);
}

/** int8 comes back as a string from node-postgres, as a number (or bigint) elsewhere. */
export function toMillis(value: number | string | bigint): number {
  return typeof value === 'number' ? value : Number(value);
}

/** count(*) is a bigint in PostgreSQL (a string from node-postgres), a number in SQLite. */
export function toCount(value: number | string | bigint): number {
  return Number(value);
}

export function toMillisOrNull(value: number | string | bigint | null): number | null {
  return value === null ? null : toMillis(value);
}

/**
 * An aggregate (sum, count) or a float: node-postgres returns bigint and numeric results as
 * strings, float8 as numbers; SQLite returns numbers. null (a sum over nothing) reads as 0.
 */
export function toNumber(value: number | string | bigint | null | undefined): number {
  return value === null || value === undefined ? 0 : Number(value);
}

/** A bigint column that may be null (micro-dollars): a number or null, never a string. */
export function toNumberOrNull(value: number | string | bigint | null): number | null {
  return value === null ? null : Number(value);
}

export function encodeQuotas(quotas: QuotaSettings | null | undefined): string | null {
  return quotas && Object.keys(quotas).length > 0 ? JSON.stringify(quotas) : null;
}

export function decodeQuotas(text: string | null): QuotaSettings | null {
  return text === null ? null : (JSON.parse(text) as QuotaSettings);
}

export function encodeSettings(settings: TenantSettings | null | undefined): string | null {
  return settings && Object.keys(settings).length > 0 ? JSON.stringify(settings) : null;
}

/** Absent when none, so a row without settings reads as it did before migration 0007. */
export function decodeSettings(text: string | null | undefined): { settings?: TenantSettings } {
  return text ? { settings: JSON.parse(text) as TenantSettings } : {};
}

export function toTenantRow(row: Selectable<TenantsTable>): TenantRow {
  return {
    id: row.id,
    models: decodeModels(row.models),
    quotas: decodeQuotas(row.quotas),
    ...decodeSettings(row.settings),
    disabled: fromFlag(row.disabled),
    source: row.source,
    createdAt: toMillis(row.created_at),
    updatedAt: toMillis(row.updated_at),
    ...(row.webhook_secret ? { hasWebhookSecret: true as const } : {}),
  };
}

/** The secrets of a tenant row; a previous secret past its time is left out. */
export function toWebhookSecrets(
  row: Pick<Selectable<TenantsTable>, 'webhook_secret' | 'webhook_secret_previous' | 'webhook_secret_previous_until'>,
): WebhookSecrets | undefined {
  if (!row.webhook_secret) return undefined;
  return { current: row.webhook_secret, previous: row.webhook_secret_previous, previousUntil: toMillisOrNull(row.webhook_secret_previous_until) };
}

export function toUpstreamKeyRow(row: Selectable<UpstreamKeysTable>): UpstreamKeyRow {
  return {
    id: row.id,
    upstreamId: row.upstream_id,
    apiKey: row.api_key,
    webhookHmacKey: row.webhook_hmac_key,
    createPer10s: row.create_per_10s === null ? null : Number(row.create_per_10s),
    recordInfoPerSecond: row.record_info_per_second === null ? null : Number(row.record_info_per_second),
    disabled: fromFlag(row.disabled),
    removedAt: toMillisOrNull(row.removed_at),
    createdAt: toMillis(row.created_at),
    updatedAt: toMillis(row.updated_at),
  };
}

export function toTenantKeyRow(row: Selectable<TenantKeysTable>): TenantKeyRow {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    hash: row.hash,
    label: row.label,
    source: row.source,
    createdAt: toMillis(row.created_at),
    revokedAt: toMillisOrNull(row.revoked_at),
    ...(row.expires_at !== null && row.expires_at !== undefined ? { expiresAt: toMillis(row.expires_at) } : {}),
  };
}

export function toKeyLookup(row: {
  id: string;
  tenant_id: string;
  revoked_at: number | string | null;
  expires_at: number | string | null;
  disabled: Flag;
  has_webhook_secret: number | boolean | string;
  models: string | null;
  quotas: string | null;
  settings: string | null;
}): KeyLookup {
  return {
    keyId: row.id,
    tenantId: row.tenant_id,
    revoked: row.revoked_at !== null,
    expiresAt: toMillisOrNull(row.expires_at),
    tenantDisabled: fromFlag(row.disabled),
    hasWebhookSecret: fromFlag(row.has_webhook_secret),
    models: decodeModels(row.models),
    quotas: decodeQuotas(row.quotas),
    ...decodeSettings(row.settings),
  };
}

export function toTaskRow(row: Selectable<TasksTable>): TaskRow {
  return {
    taskId: row.task_id,
    gatewayTaskId: row.gateway_task_id,
    tenantId: row.tenant_id,
    upstreamKeyId: row.upstream_key_id,
    upstreamId: row.upstream_id ?? null,
    model: row.model,
    callBackUrl: row.call_back_url,
    state: row.state as TaskStateName,
    record: row.record,
    param: row.param,
    createdAt: toMillis(row.created_at),
    updatedAt: toMillis(row.updated_at),
    finalAt: toMillisOrNull(row.final_at),
    slotId: row.slot_id,
    estimatedCostMicros: toNumberOrNull(row.estimated_cost_micros),
    actualCostMicros: toNumberOrNull(row.actual_cost_micros),
    callbackTokenHash: row.callback_token_hash,
    nextCheckAt: toMillisOrNull(row.next_check_at),
    checks: toNumber(row.checks),
    providerTaskId: row.provider_task_id ?? null,
    queuedAt: toMillisOrNull(row.queued_at ?? null),
    priority: toNumber(row.priority),
    deadlineAt: toMillisOrNull(row.deadline_at ?? null),
    upstreamBody: row.upstream_body ?? null,
    ...(row.trace_parent ? { traceParent: row.trace_parent } : {}),
  };
}

export function toDeliveryRow(row: Selectable<DeliveriesTable>): DeliveryRow {
  return {
    id: row.id,
    taskId: row.task_id,
    tenantId: row.tenant_id,
    url: row.url,
    payload: row.payload,
    state: row.state as DeliveryState,
    attempts: toNumber(row.attempts),
    nextAttemptAt: toMillis(row.next_attempt_at),
    leaseOwner: row.lease_owner,
    leaseUntil: toMillisOrNull(row.lease_until),
    lastStatus: row.last_status === null ? null : Number(row.last_status),
    lastError: row.last_error,
    createdAt: toMillis(row.created_at),
    updatedAt: toMillis(row.updated_at),
    deliveredAt: toMillisOrNull(row.delivered_at),
  };
}

type Aggregate = number | string | bigint | null;

/** A UTC day in milliseconds: usage buckets by created_at / DAY_MS (integer division on both dialects). */
export const DAY_MS = 86_400_000;

/** The UTC day `YYYY-MM-DD` of a day number (Unix ms / 86 400 000, as the usage query buckets). */
export function formatDay(day: number | string | bigint): string {
  return new Date(Number(day) * DAY_MS).toISOString().slice(0, 10);
}

export function toUsageRow(
  row: {
    tenant_id: string;
    grp: Aggregate;
    tasks: Aggregate;
    succeeded: Aggregate;
    failed: Aggregate;
    open: Aggregate;
    queued: Aggregate;
    cancelled: Aggregate;
    expired: Aggregate;
    estimated_micros: Aggregate;
    actual_micros: Aggregate;
  },
  groupBy: 'model' | 'day',
): UsageRow {
  const tasks = toNumber(row.tasks);
  const queued = toNumber(row.queued);
  const cancelled = toNumber(row.cancelled);
  const expired = toNumber(row.expired);
  return {
    tenantId: row.tenant_id,
    group: groupBy === 'day' ? formatDay(row.grp ?? 0) : String(row.grp),
    tasks,
    succeeded: toNumber(row.succeeded),
    // A bill's reader takes `failed` for tasks that went wrong at the provider: one the tenant
    // cancelled, or one that waited past its deadline, was never sent and is shown apart.
    failed: toNumber(row.failed) - cancelled - expired,
    open: toNumber(row.open),
    // sum(bigint) is numeric on PostgreSQL (a string), an integer on SQLite: a whole number either way.
    estimatedUsdMicros: toNumber(row.estimated_micros),
    actualUsdMicros: toNumber(row.actual_micros),
    queued,
    // Every task leaves the queue one of three ways (sent, cancelled, expired); one sent at once
    // never entered it. So what is neither waiting nor ended unsent was handed to the provider.
    dispatched: tasks - queued - cancelled - expired,
    cancelled,
    expired,
  };
}

export function toOpenTask(row: {
  task_id: string;
  slot_id: string | null;
  estimated_cost_micros: number | string | null;
  created_at: number | string;
}): TenantUsage['open'][number] {
  return {
    taskId: row.task_id,
    slotId: row.slot_id,
    estimatedCostMicros: toNumberOrNull(row.estimated_cost_micros),
    createdAt: toMillis(row.created_at),
  };
}

// The provider's final states, stated once with its other names (client/types.ts).
export { FINAL_STATES, isFinalState } from '../client/types.js';

/** Code-unit order: the same on every dialect, whatever its collation. */
export function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

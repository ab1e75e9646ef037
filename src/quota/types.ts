// Admission: may this tenant make this call (and start this task) now? One backend answers for
// every instance (Redis) or for this instance alone (in memory, rebuilt from the store at start).
// Each admission is a single atomic step: all limits are checked and, only if every one allows
// it, all are counted, so concurrent requests can never pass a limit together.
import type { TenantQuotas } from '../config/index.js';
import type { LimitName } from './limits.js';

export type { LimitName };

/** A provider key the pool considers usable now, with its createTask allowance per 10 s. */
export interface KeyCandidate {
  id: string;
  allowance: number;
}

export interface TaskAdmission {
  /** Identifies the in-flight slot (and the budget reservation) this task holds until it is final. */
  slotId: string;
  /** The price table's estimate, integer micro-dollars: reserved against budgetUsdPerMonth. */
  estimateMicros: number;
  /** The slot frees itself after this long if nothing else frees it (a task never heard of again). */
  leaseMs: number;
  /** Keys to pick from (pacing); the one with most allowance left is taken and counted. */
  keys: KeyCandidate[];
}

export interface Remaining {
  limit: LimitName;
  quota: number;
  remaining: number;
  /** Seconds until the window resets (or a slot may free). */
  resetSeconds: number;
  /** Window length in seconds, for RateLimit-Policy. */
  windowSeconds: number;
}

/**
 * `unavailable`: the backend could not answer (Redis down or too slow, failOpen off); nothing
 * stays counted for it (an admission that may have run is undone).
 */
export type Admission =
  | { ok: true; keyId?: string; remaining: Remaining[] }
  | { ok: false; limit: LimitName | 'paced' | 'unavailable'; retryAfterMs: number; remaining: Remaining[] };

export type Refusal = Exclude<Admission, { ok: true }>;

export type KeyPick = { ok: true; keyId: string } | { ok: false; retryAfterMs: number };

export interface QuotaBackend {
  /** A call of the tenant (rpm only), or with `task`, a createTask: every limit, and a key. */
  admit(tenantId: string, quotas: TenantQuotas, now: number, task?: TaskAdmission): Promise<Admission>;
  /**
   * The requestsPerMinute refusal a call would get, when it is known without asking anyone (no
   * round trip, nothing counted): lets a call be refused before its body is read or checked.
   */
  callRefusal(tenantId: string, quotas: TenantQuotas, now: number): Refusal | undefined;
  /** Another key for a createTask whose first key refused it (pacing only). */
  pickKey(keys: KeyCandidate[], now: number): Promise<KeyPick>;
  /**
   * The task was not created (or its fate is unknown and it is not tracked): give back its slot,
   * its reservation and its day/month count (`createdAt` names the buckets it was counted in).
   * Like settle, it does not fail: what the shared store missed is retried until it lands.
   */
  release(tenantId: string, slotId: string, createdAt: number): Promise<void>;
  /** The task is final: free its slot and reservation, and add what it cost (integer micro-dollars) to the month. */
  settle(tenantId: string, slotId: string | null, costMicros: number, createdAt: number): Promise<void>;
  /** Whether the backend answers now; the reason when it does not. */
  health(): Promise<{ ok: true } | { ok: false; reason: string }>;
  close(): Promise<void>;
}

/** The backend cannot answer (Redis down and failOpen off): refuse with 503, do not guess. The message is for logs only. */
export class QuotaUnavailableError extends Error {
  override readonly name = 'QuotaUnavailableError';
  readonly code = 'QUOTA_UNAVAILABLE' as const;
}

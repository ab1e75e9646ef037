// The pool of one upstream's keys: their health, learnt from what the provider's answers mean
// (the provider's body-code table says it as a KeyEffect; the pool never reads a code), and their
// recordInfo allowance. It offers the keys usable now (with their createTask allowance) to the
// quota backend, which paces them (locally or through Redis, shared by every instance) and picks
// the one with most allowance left. A resting key is offered again when its rest is over; failing
// again doubles its rest. Keys may be added, disabled by the operator and removed while running
// (the admin API, upstream-keys.ts): a removed key is offered to no createTask but still reads
// the tasks it created, and a key's learnt health survives its being disabled and enabled again.
import type { HealthConfig, UpstreamKeyConfig } from '../config/index.js';
import type { KeyEffect } from '../providers/types.js';
import { createReadBudget, type ReadBudget, type ReadBudgetStatus } from './tasks/read-budget.js';

export type KeyState = 'active' | 'cooling' | 'exhausted' | 'disabled';
export const KEY_STATES: readonly KeyState[] = ['active', 'cooling', 'exhausted', 'disabled'];

interface PoolKey {
  id: string;
  apiKey: string;
  webhookHmacKey: string | undefined;
  /** The operator turned it off (admin API): no createTask, reads still allowed. */
  operatorDisabled: boolean;
  /** The operator removed it: gone from status and createTasks, kept for its tasks' reads. */
  removed: boolean;
  createPer10s: number;
  state: KeyState;
  /** When a resting key may be tried again. */
  until: number;
  /** Consecutive failures of the same kind, for the doubling rest. */
  strikes: number;
  reason: string | undefined;
  /** recordInfo pacing: under the provider's allowance, shrinking on its 429s (tasks/read-budget.ts). */
  reads: ReadBudget;
  /** What `reads` was built from (a changed allowance builds it anew). */
  readRate: { perSecond: number; margin: number };
}

/** What the admin API and metrics show: never the secret. */
export interface KeyStatus {
  id: string;
  state: KeyState;
  /** Unix ms when a resting key is tried again; null when active. */
  retryAt: number | null;
  reason: string | null;
  /** createTask calls allowed per 10 s. */
  allowance: number;
}

/** The keys usable for a createTask now; when there are none, why, and when one may be again. */
export interface Candidates {
  keys: Array<{ id: string; allowance: number }>;
  reasons: string[];
  retryAfterMs: number;
}

/** A key as the pool is given it: from the config, or from the admin API's store. */
export type PoolKeyInput = Pick<UpstreamKeyConfig, 'id' | 'apiKey' | 'createPer10s' | 'recordInfoPerSecond' | 'recordInfoMargin'> & {
  webhookHmacKey?: string | undefined;
};

function newKey(k: PoolKeyInput): PoolKey {
  return {
    id: k.id,
    apiKey: k.apiKey,
    webhookHmacKey: k.webhookHmacKey,
    operatorDisabled: false,
    removed: false,
    createPer10s: k.createPer10s,
    state: 'active',
    until: 0,
    strikes: 0,
    reason: undefined,
    reads: createReadBudget({ perSecond: k.recordInfoPerSecond, margin: k.recordInfoMargin }),
    readRate: { perSecond: k.recordInfoPerSecond, margin: k.recordInfoMargin },
  };
}

export function createKeyPool(keys: readonly PoolKeyInput[], health: HealthConfig, now: () => number = Date.now) {
  const pool: PoolKey[] = keys.map(newKey);
  const byId = new Map(pool.map((k) => [k.id, k]));
  let maintenanceUntil = 0;

  /** Offered to createTasks at all (the operator's choice), whatever its health. */
  const offered = (key: PoolKey) => !key.removed && !key.operatorDisabled;
  /** A resting key whose time is up is usable again (on trial: a new failure rests it longer). */
  const usable = (key: PoolKey, t: number) => offered(key) && (key.state === 'active' || key.until <= t);

  function rest(key: PoolKey, state: KeyState, baseMs: number, reason: string, t: number, exactMs?: number) {
    key.strikes = key.state === state ? key.strikes + 1 : 1;
    key.state = state;
    key.reason = reason;
    key.until = t + (exactMs ?? Math.min(baseMs * 2 ** (key.strikes - 1), health.maxRetryMs));
  }

  return {
    /** The keys a createTask may use now, except those already tried for it. */
    candidates(exclude: ReadonlySet<string> = new Set()): Candidates {
      const t = now();
      if (maintenanceUntil > t) return { keys: [], reasons: ['provider in maintenance'], retryAfterMs: maintenanceUntil - t };
      const keys: Candidates['keys'] = [];
      const reasons: string[] = [];
      let soonest = Infinity;
      for (const key of pool) {
        if (exclude.has(key.id) || key.removed) continue;
        if (key.operatorDisabled) reasons.push(`${key.id}: disabled by the operator`);
        else if (usable(key, t)) keys.push({ id: key.id, allowance: key.createPer10s });
        else {
          soonest = Math.min(soonest, key.until - t);
          reasons.push(`${key.id}: ${key.state}${key.reason ? ` (${key.reason})` : ''}`);
        }
      }
      return { keys, reasons, retryAfterMs: soonest === Infinity ? health.coolDownMs : soonest };
    },

    apiKeyOf(keyId: string): string | undefined {
      return byId.get(keyId)?.apiKey;
    },

    hmacKeyOf(keyId: string): string | undefined {
      return byId.get(keyId)?.webhookHmacKey;
    },

    /** Adds a key, or changes an existing one's secret and allowances (its health is kept); un-removes it. */
    add(input: PoolKeyInput): void {
      const existing = byId.get(input.id);
      if (!existing) {
        const key = newKey(input);
        pool.push(key);
        byId.set(key.id, key);
        return;
      }
      Object.assign(existing, { apiKey: input.apiKey, webhookHmacKey: input.webhookHmacKey, createPer10s: input.createPer10s, removed: false });
      const { perSecond, margin } = existing.readRate;
      if (perSecond !== input.recordInfoPerSecond || margin !== input.recordInfoMargin) {
        const fresh = newKey(input);
        Object.assign(existing, { reads: fresh.reads, readRate: fresh.readRate });
      }
    },

    /** The operator's switch; false when there is no such key. */
    setDisabled(keyId: string, disabled: boolean): boolean {
      const key = byId.get(keyId);
      if (!key || key.removed) return false;
      key.operatorDisabled = disabled;
      return true;
    },

    /** Offered to no createTask any more, still reads its tasks; false when there is no such key. */
    remove(keyId: string): boolean {
      const key = byId.get(keyId);
      if (!key || key.removed) return false;
      key.removed = true;
      return true;
    },

    has: (keyId: string) => byId.get(keyId)?.removed === false,

    /** Whether a recordInfo may go out with this key now (counts it when yes). */
    tryRead(keyId: string): { ok: true; apiKey: string } | { ok: false } {
      const key = byId.get(keyId);
      if (!key?.reads.take(now())) return { ok: false };
      return { ok: true, apiKey: key.apiKey };
    },

    /** How a recordInfo with this key went: `paced` (the provider refused it for rate) slows this key's reads. */
    readAnswered(keyId: string, paced: boolean, retryAfterMs?: number): void {
      byId.get(keyId)?.reads.answered(paced, now(), retryAfterMs);
    },

    /** How many recordInfo this key may send now, and per second at the moment (its AIMD window). */
    readsOf(keyId: string): { available: number; perSecond: number } {
      const key = byId.get(keyId);
      return key ? { available: key.reads.available(now()), perSecond: key.reads.status().allowed } : { available: 0, perSecond: 0 };
    },

    /** Each key's recordInfo budget, for metrics and the bench. */
    readStatus(): Array<{ id: string } & ReadBudgetStatus> {
      return pool.map((k) => ({ id: k.id, ...k.reads.status() }));
    },

    /** Learns what state the key (or, for `maintenance`, the whole upstream) is in; `why` becomes its reason. */
    report(keyId: string, effect: KeyEffect, why: string, retryAfterMs?: number): void {
      const key = byId.get(keyId);
      if (!key) return;
      const t = now();
      if (effect === 'active') {
        if (key.state !== 'active') Object.assign(key, { state: 'active', until: 0, strikes: 0, reason: undefined });
      } else if (effect === 'disabled') rest(key, 'disabled', health.disabledRetryMs, why, t);
      else if (effect === 'exhausted') rest(key, 'exhausted', health.exhaustedRetryMs, why, t);
      else if (effect === 'cooling') rest(key, 'cooling', health.coolDownMs, why, t, Math.max(retryAfterMs ?? 0, health.coolDownMs));
      else if (effect === 'maintenance') maintenanceUntil = t + Math.max(retryAfterMs ?? 0, health.maintenanceRetryMs);
    },

    /** The provider answered again after maintenance: stop waiting for it. */
    clearMaintenance(): void {
      maintenanceUntil = 0;
    },

    inMaintenance: () => maintenanceUntil > now(),

    /** Whether any key could serve a createTask now or after its rest. */
    hasUsableKey(): boolean {
      const t = now();
      return maintenanceUntil <= t && pool.some((k) => usable(k, t));
    },

    status(): KeyStatus[] {
      const t = now();
      return pool
        .filter((k) => !k.removed)
        .map((k) => {
          if (k.operatorDisabled) return { id: k.id, state: 'disabled', retryAt: null, reason: 'disabled by the operator', allowance: k.createPer10s };
          const resting = !usable(k, t);
          return {
            id: k.id,
            state: resting ? k.state : 'active',
            retryAt: resting ? k.until : null,
            reason: resting ? (k.reason ?? null) : null,
            allowance: k.createPer10s,
          };
        });
    },
  };
}

export type KeyPool = ReturnType<typeof createKeyPool>;

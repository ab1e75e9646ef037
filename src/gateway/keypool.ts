// The pool of provider keys. Per createTask it picks the key with the most allowance left, so
// the load spreads and no key ever goes past its pace (default 20 createTask per 10 s); it
// tracks each key's health from the provider's body codes and brings keys back by timer
// (a key whose rest is over is tried again; failing again doubles its rest).
import type { HealthConfig, UpstreamKeyConfig } from '../config/index.js';

export type KeyState = 'active' | 'cooling' | 'exhausted' | 'disabled';
export const KEY_STATES: readonly KeyState[] = ['active', 'cooling', 'exhausted', 'disabled'];

interface PoolKey {
  id: string;
  apiKey: string;
  createPer10s: number;
  recordInfoPerSecond: number;
  state: KeyState;
  /** When a resting key may be tried again. */
  until: number;
  /** Consecutive failures of the same kind, for the doubling rest. */
  strikes: number;
  reason: string | undefined;
  createCalls: number[];
  readCalls: number[];
}

/** What the admin API and metrics show: never the secret. */
export interface KeyStatus {
  id: string;
  state: KeyState;
  /** Unix ms when a resting key is tried again; null when active. */
  retryAt: number | null;
  reason: string | null;
  /** createTask calls in the current 10 s window, and the allowance. */
  used: number;
  allowance: number;
}

export type CreatePick =
  | { ok: true; keyId: string; apiKey: string }
  | { ok: false; why: 'paced'; retryAfterMs: number }
  | { ok: false; why: 'unavailable'; retryAfterMs: number; reasons: string[] };

const CREATE_WINDOW_MS = 10_000;
const READ_WINDOW_MS = 1000;

function prune(calls: number[], windowMs: number, now: number): void {
  let drop = 0;
  while (drop < calls.length && calls[drop]! <= now - windowMs) drop++;
  if (drop > 0) calls.splice(0, drop);
}

export function createKeyPool(keys: readonly UpstreamKeyConfig[], health: HealthConfig, now: () => number = Date.now) {
  const pool: PoolKey[] = keys.map((k) => ({
    id: k.id,
    apiKey: k.apiKey,
    createPer10s: k.createPer10s,
    recordInfoPerSecond: k.recordInfoPerSecond,
    state: 'active',
    until: 0,
    strikes: 0,
    reason: undefined,
    createCalls: [],
    readCalls: [],
  }));
  const byId = new Map(pool.map((k) => [k.id, k]));
  let maintenanceUntil = 0;
  let turn = 0;

  /** A resting key whose time is up is usable again (on trial: a new failure rests it longer). */
  const usable = (key: PoolKey, t: number) => key.state === 'active' || key.until <= t;

  function rest(key: PoolKey, state: KeyState, baseMs: number, reason: string, t: number, exactMs?: number) {
    key.strikes = key.state === state ? key.strikes + 1 : 1;
    key.state = state;
    key.reason = reason;
    key.until = t + (exactMs ?? Math.min(baseMs * 2 ** (key.strikes - 1), health.maxRetryMs));
  }

  return {
    /** Picks a key for one createTask and counts the call against its pace. */
    pickForCreate(exclude: ReadonlySet<string> = new Set()): CreatePick {
      const t = now();
      if (maintenanceUntil > t) return { ok: false, why: 'unavailable', retryAfterMs: maintenanceUntil - t, reasons: ['provider in maintenance'] };
      let best: PoolKey | undefined;
      let bestLeft = 0;
      let soonestSlot = Infinity;
      let soonestKey = Infinity;
      const reasons: string[] = [];
      for (let i = 0; i < pool.length; i++) {
        const key = pool[(turn + i) % pool.length]!;
        if (exclude.has(key.id)) continue;
        if (!usable(key, t)) {
          soonestKey = Math.min(soonestKey, key.until - t);
          reasons.push(`${key.id}: ${key.state}${key.reason ? ` (${key.reason})` : ''}`);
          continue;
        }
        prune(key.createCalls, CREATE_WINDOW_MS, t);
        const left = key.createPer10s - key.createCalls.length;
        if (left > bestLeft) {
          best = key;
          bestLeft = left;
        } else if (left <= 0) {
          soonestSlot = Math.min(soonestSlot, key.createCalls[0]! + CREATE_WINDOW_MS - t);
        }
      }
      turn = (turn + 1) % Math.max(1, pool.length);
      if (best) {
        best.createCalls.push(t);
        return { ok: true, keyId: best.id, apiKey: best.apiKey };
      }
      if (soonestSlot !== Infinity) return { ok: false, why: 'paced', retryAfterMs: soonestSlot };
      return { ok: false, why: 'unavailable', retryAfterMs: soonestKey === Infinity ? health.coolDownMs : soonestKey, reasons };
    },

    /** Whether a recordInfo may go out with this key now (counts it when yes). */
    tryRead(keyId: string): { ok: true; apiKey: string } | { ok: false } {
      const key = byId.get(keyId);
      if (!key) return { ok: false };
      const t = now();
      prune(key.readCalls, READ_WINDOW_MS, t);
      if (key.readCalls.length >= key.recordInfoPerSecond) return { ok: false };
      key.readCalls.push(t);
      return { ok: true, apiKey: key.apiKey };
    },

    /** Learns from a body code what state the key (or the provider) is in. */
    report(keyId: string, code: number, retryAfterMs?: number): void {
      const key = byId.get(keyId);
      if (!key) return;
      const t = now();
      if (code === 200) {
        if (key.state !== 'active') Object.assign(key, { state: 'active', until: 0, strikes: 0, reason: undefined });
      } else if (code === 401) rest(key, 'disabled', health.disabledRetryMs, 'provider answered 401: key refused', t);
      else if (code === 402) rest(key, 'exhausted', health.exhaustedRetryMs, 'provider answered 402: out of credits', t);
      else if (code === 433) rest(key, 'exhausted', health.exhaustedRetryMs, 'provider answered 433: sub-key limit', t);
      else if (code === 429) rest(key, 'cooling', health.coolDownMs, 'provider answered 429', t, Math.max(retryAfterMs ?? 0, health.coolDownMs));
      else if (code === 455) maintenanceUntil = t + Math.max(retryAfterMs ?? 0, health.maintenanceRetryMs);
    },

    /** The provider answered again after a 455: stop waiting for maintenance. */
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
      return pool.map((k) => {
        prune(k.createCalls, CREATE_WINDOW_MS, t);
        const resting = !usable(k, t);
        return {
          id: k.id,
          state: resting ? k.state : 'active',
          retryAt: resting ? k.until : null,
          reason: resting ? (k.reason ?? null) : null,
          used: k.createCalls.length,
          allowance: k.createPer10s,
        };
      });
    },
  };
}

export type KeyPool = ReturnType<typeof createKeyPool>;

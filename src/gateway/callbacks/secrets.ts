// A tenant's Standard Webhooks secrets, kept in the store (migration 0011): set from the config
// at start, or set and rotated through the admin API. A rotation keeps the old secret signing
// for an overlap period, so receivers that still verify with it keep accepting callbacks while
// they switch (Standard Webhooks allows several signatures in `webhook-signature`).
import { randomBytes } from 'node:crypto';
import type { Store, WebhookSecrets } from '../../store/types.js';

/** A new secret in the Standard Webhooks form (`whsec_` + base64 of 32 random bytes). */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

/** The secrets after `next` replaces the current one: the old one signs for `overlapMs` more. */
export function rotated(current: WebhookSecrets | undefined, next: string, now: number, overlapMs: number): WebhookSecrets {
  const previous = current && current.current !== next && overlapMs > 0 ? current.current : null;
  return { current: next, previous, previousUntil: previous === null ? null : now + overlapMs };
}

/** The secrets that sign a callback sent now: the current one, and the previous within its overlap. */
export function signingSecrets(secrets: WebhookSecrets | undefined, now: number): string[] {
  if (!secrets) return [];
  const previous = secrets.previous !== null && secrets.previousUntil !== null && now < secrets.previousUntil ? [secrets.previous] : [];
  return [secrets.current, ...previous];
}

export function createSecretsReader(store: Store) {
  return async (tenantId: string, now: number): Promise<string[]> => signingSecrets(await store.getWebhookSecrets(tenantId), now);
}

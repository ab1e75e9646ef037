// The dashboard's one way to the gateway: an openapi-fetch client typed from the gateway's own
// contract (openapi/gateway.yaml → src/generated/gateway.ts). The session cookie goes with every
// call (same origin); a change also carries the CSRF token the sign-in answer gave.
import createClient from 'openapi-fetch';
import type { components, paths } from '../../../generated/gateway.js';

export type Schemas = components['schemas'];
export type Tenant = Schemas['Tenant'];
export type TenantKey = Schemas['TenantKey'];
export type Quotas = Schemas['Quotas'];
export type UsageRow = Schemas['UsageRow'];
export type Delivery = Schemas['Delivery'];
export type Stats = Schemas['Stats'];
export type UpstreamKey = Schemas['UpstreamKeyStatus'];
export type GatewayError = Schemas['GatewayError'];

let csrf: string | undefined;

export const api = createClient<paths>({ baseUrl: location.origin, credentials: 'same-origin' });

api.use({
  onRequest({ request }) {
    if (request.method !== 'GET' && request.method !== 'HEAD' && csrf) request.headers.set('x-csrf-token', csrf);
    return request;
  },
});

/** Remembers the session's CSRF token (from sign-in or GET /dashboard/session). */
export function setSession(data: { csrf: string } | undefined): void {
  csrf = data?.csrf;
}

/** What an answer that is not 2xx says, in words: the envelope's msg, or the HTTP status. */
export function problem(error: unknown, response: Response): string {
  const msg = (error as Partial<GatewayError> | undefined)?.msg;
  return typeof msg === 'string' ? msg : `HTTP ${response.status} ${response.statusText}`;
}

/** The failing fields of a 422, each as "path: message". */
export function fieldErrors(error: unknown): string[] {
  const errors = ((error as Partial<GatewayError> | undefined)?.data as { errors?: Array<{ path: string; message: string }> } | null | undefined)?.errors;
  return (errors ?? []).map((e) => `${e.path || '(body)'}: ${e.message}`);
}

// What every admin router shares: the answer's envelope (openapi/gateway.yaml `Ok`), the
// contract's types, and the helpers routes.ts builds (a body checked against gateway.yaml, a tenant or 404).
import type { Request } from 'express';
import type { components } from '../../generated/gateway.js';
import type { TenantRow } from '../../store/types.js';

export type Api = components['schemas'];

export const ok = <T>(data: T): Api['Ok'] & { data: T } => ({ code: 200, msg: 'success', data });

/** What the admin routers share: a body checked against gateway.yaml, a tenant or 404. */
export interface AdminHelpers {
  body<T>(req: Request, schema: string, optional?: boolean): T;
  tenantOr404(id: string): Promise<TenantRow>;
}

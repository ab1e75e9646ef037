// The admin API's envelope around an answer (openapi/gateway.yaml `Ok`), one definition for every admin router.
import type { components } from '../../generated/gateway.js';

export type Api = components['schemas'];

export const ok = <T>(data: T): Api['Ok'] & { data: T } => ({ code: 200, msg: 'success', data });

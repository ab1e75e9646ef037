// Every change to tenants or keys, whichever path makes it (the admin API, the config applied
// at start and reload, any endpoint added later), goes through the Store; so the invalidation
// hooks the Store, not the routes. The writes that change what a key lookup answers (the key, its
// tenant, the tenant's settings and webhook secret) are listed by name, typed on the Store, and a
// test checks that every other Store method is a reader or touches neither tenants nor keys.
import type { Store } from '../../store/types.js';

/** The Store methods whose success changes what `findKeyByHash` answers for some key. */
export const TENANT_WRITES = [
  'upsertTenant',
  'updateTenant',
  'addTenantKey',
  'revokeTenantKey',
  'updateTenantKey',
  'deleteTenant',
  'setWebhookSecrets',
] as const satisfies readonly (keyof Store)[];

const WRITES: ReadonlySet<string> = new Set(TENANT_WRITES);

/** Whether a Store method of this name changes tenants or keys. */
export const changesTenants = (name: string): boolean => WRITES.has(name);

/**
 * The store, with `changed()` awaited after every successful change to tenants or keys. A Proxy,
 * not a copy: every other property is the store's own, read at each use (a test that replaces a
 * method on the store replaces it here too).
 */
export function invalidatingStore(store: Store, changed: () => Promise<void>): Store {
  const wrappers = new Map<string, (...args: unknown[]) => Promise<unknown>>();
  return new Proxy(store, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof property !== 'string' || typeof value !== 'function' || !changesTenants(property)) return value;
      let wrapper = wrappers.get(property);
      if (!wrapper) {
        wrapper = async (...args: unknown[]) => {
          const method = Reflect.get(target, property, receiver) as (...a: unknown[]) => unknown;
          const result = await method.apply(receiver, args);
          await changed();
          return result;
        };
        wrappers.set(property, wrapper);
      }
      return wrapper;
    },
  });
}

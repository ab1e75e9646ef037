// Every change to tenants or keys, whichever path makes it (the admin API, the config applied
// at start, any endpoint added later), goes through the Store; so the invalidation hooks the
// Store, not the routes. The rule is the Store's naming: a method that changes tenants or keys
// has `Tenant` in its name after a verb (upsertTenant, updateTenant, addTenantKey,
// revokeTenantKey, …); readers start with get/list/find/count. Any other method is the store's
// own, unwrapped.
import type { Store } from '../../store/types.js';

const CHANGES_TENANTS = /^(?!get|list|find|count)[a-z]+Tenant/;

/** Whether a Store method of this name changes tenants or keys. */
export const changesTenants = (name: string): boolean => CHANGES_TENANTS.test(name);

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

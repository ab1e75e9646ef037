// Every change to tenants or keys, whichever path makes it (the admin API, the config applied
// at start, any endpoint added later), goes through the Store; so the invalidation hooks the
// Store, not the routes. The rule is the Store's naming: a method that changes tenants or keys
// has `Tenant` in its name after a verb (upsertTenant, updateTenant, addTenantKey,
// revokeTenantKey, …); readers start with get/list/find/count. Any other method passes through
// untouched (no wrapper on the hot path).
import type { Store } from '../../store/types.js';

const CHANGES_TENANTS = /^(?!get|list|find|count)[a-z]+Tenant/;

/** Whether a Store method of this name changes tenants or keys. */
export const changesTenants = (name: string): boolean => CHANGES_TENANTS.test(name);

/** The store, with `changed()` awaited after every successful change to tenants or keys. */
export function invalidatingStore(store: Store, changed: () => Promise<void>): Store {
  const wrapped: Record<string, unknown> = {};
  const names = new Set<string>();
  for (let proto: object | null = store; proto && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
    for (const name of Object.getOwnPropertyNames(proto)) names.add(name);
  }
  for (const name of names) {
    if (name === 'constructor') continue;
    const value = (store as unknown as Record<string, unknown>)[name];
    if (typeof value !== 'function') {
      wrapped[name] = value;
      continue;
    }
    const method = value.bind(store) as (...args: unknown[]) => unknown;
    wrapped[name] = changesTenants(name)
      ? async (...args: unknown[]) => {
          const result = await method(...args);
          await changed();
          return result;
        }
      : method;
  }
  return wrapped as unknown as Store;
}

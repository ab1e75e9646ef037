// The weighted fair order across tenants: start-time fair queuing over dispatch slots. Each
// tenant has a virtual time that advances by 1/weight per task dispatched; the tenant with the
// smallest goes next (ties: the one served longest ago, so equal weights are round-robin). A
// tenant that was idle starts from the current virtual time, not from where it stopped: it gets
// its share from now on, never a burst to "catch up". Within a tenant the store's order rules
// (priority, then FIFO). Pure and in memory: each dispatcher keeps its own, and since every
// instance's picks follow the weights, so does their sum.

export interface FairPicker {
  /** The tenants in the order they should be offered the next dispatch slot. */
  order(tenants: readonly string[]): string[];
  /** A task of this tenant was dispatched. */
  served(tenantId: string): void;
}

export function createFairPicker(weightOf: (tenantId: string) => number): FairPicker {
  const finish = new Map<string, number>();
  const lastServed = new Map<string, number>();
  let virtualNow = 0;
  let turn = 0;

  const startOf = (tenantId: string) => Math.max(finish.get(tenantId) ?? virtualNow, virtualNow);

  return {
    order(tenants) {
      return [...tenants].sort((a, b) => startOf(a) - startOf(b) || (lastServed.get(a) ?? -1) - (lastServed.get(b) ?? -1) || (a < b ? -1 : a > b ? 1 : 0));
    },
    served(tenantId) {
      const start = startOf(tenantId);
      virtualNow = start;
      finish.set(tenantId, start + 1 / Math.max(1, weightOf(tenantId)));
      lastServed.set(tenantId, turn++);
    },
  };
}

// Which upstream and key send a queued task now. The task is routed as a createTask sent at once
// would be (upstreams.ts keyChoices: the healthy upstreams that serve its model, cheapest first,
// with their usable keys); the first key of that order past its spacing that the pacing lets
// through sends it. So a model served by several upstreams drains at their combined allowance,
// each key within its own pace.
//
// Each key's units are spread over its window (one per 10 s / allowance) rather than spent as
// fast as they free: a backlog otherwise takes a whole window's units at once, they all free
// together 10 s later, and a light tenant's task that arrives in between waits the whole 10 s
// however fair the order. Per instance; the shared pacing (Redis when configured) bounds the sum.
import { QuotaUnavailableError, type KeyPick } from '../../quota/types.js';
import { PACE_WINDOW_MS } from '../../quota/windows.js';
import type { GatewayContext } from '../context.js';

/** Where a task goes: the upstream and the key the pacing let through for it. */
export interface Route {
  upstreamId: string;
  keyId: string;
}

export function createQueueRouter(ctx: GatewayContext, pollIntervalMs: number) {
  /** By upstream and key: when the key may send its next unit (this instance's spacing). */
  const nextAt = new Map<string, number>();

  return {
    /**
     * The route for a task of this model now, or how long until there may be one. A unit of
     * allowance is taken only once a task is known to be waiting, and before the task is (a task
     * claimed and then paced would have to be written back). If another instance takes that task
     * in between, the unit goes unused.
     */
    async routeFor(model: string): Promise<Route | { waitMs: number }> {
      const { choices, retryAfterMs } = ctx.upstreams.keyChoices(model);
      // No upstream serves it (the config changed since it was accepted): looked at again at the
      // poll; it ends at its deadline or lifetime if none comes back.
      if (choices.length === 0) return { waitMs: retryAfterMs || pollIntervalMs };
      const now = ctx.clock.now();
      let soonest = Infinity;
      for (const { upstream, keys } of choices) {
        const spacing = (keyId: string) => nextAt.get(`${upstream.id}/${keyId}`) ?? -Infinity;
        const spaced = keys.filter((k) => spacing(k.id) <= now);
        if (spaced.length === 0) {
          soonest = Math.min(soonest, ...keys.map((k) => spacing(k.id) - now));
          continue;
        }
        let pick: KeyPick;
        try {
          pick = await ctx.quota.pickKey(spaced, now);
        } catch (error) {
          if (error instanceof QuotaUnavailableError) return { waitMs: 1000 };
          throw error;
        }
        if (!pick.ok) {
          soonest = Math.min(soonest, pick.retryAfterMs);
          continue;
        }
        const allowance = spaced.find((k) => k.id === pick.keyId)!.allowance;
        nextAt.set(`${upstream.id}/${pick.keyId}`, now + PACE_WINDOW_MS / allowance);
        return { upstreamId: upstream.id, keyId: pick.keyId };
      }
      return { waitMs: soonest };
    },
  };
}

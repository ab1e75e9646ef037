// The weighted fair order on its own (queue/fair.ts): shares follow the weights over a backlog,
// equal weights take turns, and a tenant back from idle gets its share from now on, not a burst.
import { describe, expect, it } from 'vitest';
import { createFairPicker } from '../../src/gateway/queue/fair.js';

/** Serves `slots` dispatch slots among always-backlogged `tenants`; how many each got. */
function serve(weights: Record<string, number>, slots: number, tenants = Object.keys(weights)) {
  const fair = createFairPicker((t) => weights[t] ?? 1);
  const got: Record<string, number> = {};
  for (let i = 0; i < slots; i++) {
    const next = fair.order(tenants)[0]!;
    fair.served(next);
    got[next] = (got[next] ?? 0) + 1;
  }
  return { got, fair };
}

describe('the weighted fair order', () => {
  it('gives 3:1 weights 3:1 shares, exactly per cycle of 4', () => {
    expect(serve({ a: 3, b: 1 }, 400).got).toEqual({ a: 300, b: 100 });
  });

  it('takes turns with equal weights (round-robin)', () => {
    const fair = createFairPicker(() => 1);
    const order: string[] = [];
    for (let i = 0; i < 6; i++) {
      const next = fair.order(['x', 'y', 'z'])[0]!;
      fair.served(next);
      order.push(next);
    }
    expect(order).toEqual(['x', 'y', 'z', 'x', 'y', 'z']);
  });

  it('a tenant back from idle is served next, then shares: no catch-up burst', () => {
    const { fair } = serve({ a: 1, b: 1 }, 100, ['a']); // a alone for 100 slots
    const order: string[] = [];
    for (let i = 0; i < 6; i++) {
      const next = fair.order(['a', 'b'])[0]!;
      fair.served(next);
      order.push(next);
    }
    expect(order.filter((t) => t === 'b')).toHaveLength(3);
    expect(order[0]).toBe('b');
  });
});

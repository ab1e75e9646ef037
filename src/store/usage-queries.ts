// The usage ledger's query (GET /admin/v1/usage): the tasks of each tenant and model or day,
// counted by how they ended and by where they went, with their money. Part of the Store
// (kysely-store.ts spreads it in).
import { sql, type ExpressionBuilder, type Kysely, type RawBuilder } from 'kysely';
import { UNSENT_FAIL_CODES, type UnsentEnd } from '../client/types.js';
import { compareCodeUnits as compare, DAY_MS, toUsageRow } from './rows.js';
import type { Database } from './schema.js';
import type { Store } from './types.js';
import { whole } from './whole.js';

/**
 * A LIKE pattern for the stored record's failCode: the record is JSON.stringify's text, so the
 * pair reads `"failCode":"<code>"` exactly (a quote inside a string value is escaped, so no
 * value can contain it). `\` escapes LIKE's wildcards (the codes hold `_`), the same on both dialects.
 */
function failCodePattern(code: string): string {
  return `%${JSON.stringify('failCode')}:${JSON.stringify(code)}%`.replace(/[\\_]/g, (c) => `\\${c}`);
}

/**
 * Ended by the gateway while queued (queue/cancel.ts: the only writer that ends a `queued` row).
 * Its failCode lives in the record, the one column that tells a cancel from an expiry.
 */
function endedUnsent(eb: ExpressionBuilder<Database, 'tasks'>, why: UnsentEnd) {
  return eb.and([
    eb('state', '=', 'fail'),
    eb('queued_at', 'is not', null),
    sql<boolean>`${sql.ref('record')} like ${failCodePattern(UNSENT_FAIL_CODES[why])} escape '\\'`,
  ]);
}

export function createUsageQueries(db: Kysely<Database>): Pick<Store, 'usage'> {
  return {
    // One grouped read. The day is created_at / 86 400 000 in SQL (integer division on both
    // dialects: bigint on PostgreSQL, INTEGER on SQLite), written with a literal so the SELECT and
    // GROUP BY expressions are the same text on PostgreSQL; formatted as YYYY-MM-DD in rows.ts.
    // Sorted here, by code unit, so the order does not depend on the database's collation.
    async usage(query) {
      const group: RawBuilder<string | number> =
        query.groupBy === 'day' ? sql<number>`${sql.ref('created_at')} / ${sql.lit(DAY_MS)}` : sql.ref<string>('model');
      let select = db
        .selectFrom('tasks')
        .select((eb) => [
          'tenant_id',
          group.as('grp'),
          eb.fn.countAll().as('tasks'),
          eb.fn.countAll().filterWhere('state', '=', 'success').as('succeeded'),
          // All fails here; rows.ts takes the cancelled and expired out (UsageRow.failed).
          eb.fn.countAll().filterWhere('state', '=', 'fail').as('failed'),
          eb.fn.countAll().filterWhere('final_at', 'is', null).as('open'),
          eb.fn.countAll().filterWhere('state', '=', 'queued').as('queued'),
          eb.fn.countAll().filterWhere(endedUnsent(eb, 'cancelled')).as('cancelled'),
          eb.fn.countAll().filterWhere(endedUnsent(eb, 'expired')).as('expired'),
          eb.fn.coalesce(eb.fn.sum('estimated_cost_micros'), eb.lit(0)).as('estimated_micros'),
          eb.fn.coalesce(eb.fn.sum('actual_cost_micros').filterWhere('final_at', 'is not', null), eb.lit(0)).as('actual_micros'),
        ])
        .groupBy(['tenant_id', group]);
      if (query.tenantId !== undefined) select = select.where('tenant_id', '=', query.tenantId);
      if (query.from !== undefined) select = select.where('created_at', '>=', whole('from', query.from));
      if (query.to !== undefined) select = select.where('created_at', '<', whole('to', query.to));
      const rows = (await select.execute()).map((row) => toUsageRow(row, query.groupBy));
      return rows.sort((a, b) => compare(a.tenantId, b.tenantId) || compare(a.group, b.group));
    },
  };
}

// GET /admin/v1/usage?tenant=&from=&to=&groupBy=model|day: the usage ledger (one row per task in
// the store), summed per tenant and model or day; JSON by default, CSV with Accept: text/csv.
// Money leaves the gateway here, so this is where it becomes USD: each amount is shown twice, as
// the exact integer of micro-dollars the ledger holds (`…UsdMicros`, the one to add up) and as a
// USD decimal string formatted from it (`…Usd`, "0.22": never a float, so never 0.22000000000000006).
import { Router, type Request } from 'express';
import { formatUsd } from '../../pricing/money.js';
import type { components } from '../../generated/gateway.js';
import type { UsageRow } from '../../store/types.js';
import type { GatewayContext } from '../context.js';
import { invalidField, type GatewayError } from '../errors.js';
import { parseTime } from '../http/query.js';
import { handle } from '../respond.js';

function invalid(path: string, message: string): GatewayError {
  return invalidField({ path, message, keyword: 'format' }, 'admin_validation');
}

/** A usage row as the API shows it (openapi/gateway.yaml, UsageRow). */
export type UsageAnswerRow = components['schemas']['UsageRow'];

export function toAnswerRow(row: UsageRow): UsageAnswerRow {
  // Key order as in the contract (CSV_COLUMNS): the USD text where it always was, the exact
  // integers after it, then the queue's counts.
  const { tenantId, group, tasks, succeeded, failed, open, estimatedUsdMicros, actualUsdMicros, ...queue } = row;
  const usd = { estimatedUsd: formatUsd(estimatedUsdMicros), actualUsd: formatUsd(actualUsdMicros) };
  return { tenantId, group, tasks, succeeded, failed, open, ...usd, estimatedUsdMicros, actualUsdMicros, ...queue };
}

// The contract's order of UsageRow. Columns are only ever added at the end, so a spreadsheet
// reading them by position keeps working; the typecheck fails while a field of UsageRow has none.
const CSV_COLUMNS = [
  'tenantId',
  'group',
  'tasks',
  'succeeded',
  'failed',
  'open',
  'estimatedUsd',
  'actualUsd',
  'estimatedUsdMicros',
  'actualUsdMicros',
  'queued',
  'dispatched',
  'cancelled',
  'expired',
] as const satisfies readonly (keyof UsageAnswerRow)[];
const everyField: Exclude<keyof UsageAnswerRow, (typeof CSV_COLUMNS)[number]> extends never ? true : never = true;
void everyField;

function csvCell(value: unknown): string {
  const text = String(value);
  return /[",\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function toCsv(rows: UsageAnswerRow[]): string {
  return [CSV_COLUMNS.join(','), ...rows.map((row) => CSV_COLUMNS.map((c) => csvCell(row[c])).join(','))].join('\n') + '\n';
}

export function usageRouter(ctx: GatewayContext): Router {
  const router = Router();
  router.get(
    '/usage',
    handle(async (req: Request, res) => {
      const groupBy = (req.query.groupBy ?? 'model') as string;
      if (groupBy !== 'model' && groupBy !== 'day') throw invalid('groupBy', 'must be one of model, day');
      const tenant = req.query.tenant === undefined || req.query.tenant === '' ? undefined : String(req.query.tenant);
      const stored = await ctx.store.usage({
        tenantId: tenant,
        from: parseTime('from', req.query.from, invalid),
        to: parseTime('to', req.query.to, invalid),
        groupBy,
      });
      const rows = stored.map(toAnswerRow);
      if (req.accepts(['application/json', 'text/csv']) === 'text/csv') {
        res.type('text/csv').send(toCsv(rows));
        return;
      }
      const answer: components['schemas']['UsageResponse'] = { code: 200, msg: 'success', data: rows };
      res.json(answer);
    }),
  );
  // The result copies' share of the ledger: bytes kept per tenant (results/).
  router.get(
    '/usage/results',
    handle(async (_req, res) => {
      res.json({ code: 200, msg: 'success', data: await ctx.store.copyBytesByTenant() });
    }),
  );
  return router;
}

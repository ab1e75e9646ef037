// Usage: GET /admin/v1/usage as a table (its numbers as the API gives them), charts of tasks and
// USD per group, a date range, and the same query as CSV. Days are UTC days, as in the ledger.
import { useEffect, useMemo, useState } from 'preact/hooks';
import { api, problem, type Tenant, type UsageRow } from '../api.js';
import { Chart, Problem, Section } from '../components.js';
import { day, formatUsd } from '../format.js';

interface Query {
  tenant?: string;
  from?: string;
  to?: string;
  groupBy: 'model' | 'day';
}

/** The form's values as the API's query: "through" a day is "to" (exclusive) the next one. */
function toQuery(form: RangeValues): Query {
  const next = form.through ? day(Date.parse(form.through) + DAY_MS) : undefined;
  return { groupBy: form.groupBy, ...(form.tenant && { tenant: form.tenant }), ...(form.from && { from: form.from }), ...(next && { to: next }) };
}

const DAY_MS = 86_400_000;

/** Every UTC day of [from, to) as YYYY-MM-DD, so a chart shows the range asked for, gaps at zero. */
function daysOf(query: Query, rows: UsageRow[]): string[] {
  const known = rows.map((r) => Date.parse(r.group));
  const start = query.from ? Date.parse(query.from) : Math.min(...known);
  const end = query.to ? Date.parse(query.to) : Math.max(...known) + DAY_MS;
  const days: string[] = [];
  for (let t = start; t < end && days.length < 366 * 5; t += DAY_MS) days.push(day(t));
  return days;
}

/** Rows summed per group (across tenants): per day over the whole range, or per model. */
function perGroup(rows: UsageRow[], query: Query) {
  const groups = new Map<string, { tasks: number; actualUsdMicros: number }>();
  for (const r of rows) {
    const g = groups.get(r.group) ?? { tasks: 0, actualUsdMicros: 0 };
    g.tasks += r.tasks;
    g.actualUsdMicros += r.actualUsdMicros;
    groups.set(r.group, g);
  }
  const names = query.groupBy === 'day' ? daysOf(query, rows) : [...groups.keys()].sort();
  return { names, values: names.map((n) => groups.get(n) ?? { tasks: 0, actualUsdMicros: 0 }) };
}

function UsageCharts({ rows, query }: { rows: UsageRow[]; query: Query }) {
  const groupBy = query.groupBy;
  const { tasks, usd, categories } = useMemo(() => {
    const { names, values } = perGroup(rows, query);
    const x = groupBy === 'day' ? names.map((n) => Date.parse(n) / 1000) : names.map((_n, i) => i);
    return {
      categories: groupBy === 'day' ? undefined : names,
      tasks: [x, values.map((v) => v.tasks)] as [number[], number[]],
      usd: [x, values.map((v) => v.actualUsdMicros / 1_000_000)] as [number[], number[]],
    };
  }, [rows, query]);
  if (rows.length === 0) return null;
  return (
    <div class="charts">
      <figure>
        <figcaption>Tasks per {groupBy}</figcaption>
        <Chart
          label={`Tasks per ${groupBy}; the table below has the numbers`}
          data={tasks}
          categories={categories}
          series={[{ label: 'tasks', stroke: '#2563eb', bars: true }]}
        />
      </figure>
      <figure>
        <figcaption>USD charged per {groupBy}</figcaption>
        <Chart
          label={`USD charged per ${groupBy}; the table below has the numbers`}
          data={usd}
          categories={categories}
          series={[{ label: 'USD', stroke: '#16a34a', bars: true }]}
        />
      </figure>
    </div>
  );
}

/** The counts shown, in the table's order: how the tasks ended, then where they went (UsageRow). */
const COUNTS = [
  ['tasks', 'Tasks'],
  ['succeeded', 'Succeeded'],
  ['failed', 'Failed'],
  ['cancelled', 'Cancelled'],
  ['expired', 'Expired'],
  ['open', 'Open'],
  ['queued', 'Queued'],
  ['dispatched', 'Dispatched'],
] as const satisfies ReadonlyArray<readonly [keyof UsageRow, string]>;

function UsageTable({ rows }: { rows: UsageRow[] }) {
  const sum = (pick: (r: UsageRow) => number) => rows.reduce((n, r) => n + pick(r), 0);
  return (
    <table data-testid="usage-table">
      <thead>
        <tr>
          {['Tenant', 'Group', ...COUNTS.map(([, h]) => h), 'Estimated USD', 'Actual USD'].map((h, i) => (
            <th key={h} scope="col" class={i >= 2 ? 'num' : undefined}>
              {h}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => (
          <tr key={`${r.tenantId}/${r.group}`}>
            <td>{r.tenantId}</td>
            <td>{r.group}</td>
            {COUNTS.map(([k]) => (
              <td key={k} class="num">
                {r[k]}
              </td>
            ))}
            <td class="num">{r.estimatedUsd}</td>
            <td class="num">{r.actualUsd}</td>
          </tr>
        ))}
      </tbody>
      <tfoot>
        <tr>
          <th scope="row" colSpan={2}>
            Total
          </th>
          {COUNTS.map(([k]) => (
            <td key={k} class="num">
              {sum((r) => r[k])}
            </td>
          ))}
          <td class="num">{formatUsd(sum((r) => r.estimatedUsdMicros))}</td>
          <td class="num">{formatUsd(sum((r) => r.actualUsdMicros))}</td>
        </tr>
      </tfoot>
    </table>
  );
}

interface RangeValues {
  tenant: string;
  from: string;
  through: string;
  groupBy: 'model' | 'day';
}

function RangeForm(props: { form: RangeValues; setForm: (f: RangeValues) => void; tenants: Tenant[]; onShow: (e: Event) => void; onDownload: () => void }) {
  const { form, setForm, tenants, onShow, onDownload } = props;
  const set = (key: keyof RangeValues) => (e: Event) => setForm({ ...form, [key]: (e.currentTarget as HTMLInputElement).value });
  return (
    <form class="filters" onSubmit={onShow} aria-label="Usage range">
      <div class="field">
        <label for="usage-tenant">Tenant</label>
        <select id="usage-tenant" value={form.tenant} onChange={set('tenant')}>
          <option value="">every tenant</option>
          {tenants.map((t) => (
            <option key={t.id} value={t.id}>
              {t.id}
            </option>
          ))}
        </select>
      </div>
      <div class="field">
        <label for="usage-from">From (UTC day)</label>
        <input id="usage-from" type="date" value={form.from} onInput={set('from')} />
      </div>
      <div class="field">
        <label for="usage-through">Through (UTC day)</label>
        <input id="usage-through" type="date" value={form.through} onInput={set('through')} />
      </div>
      <div class="field">
        <label for="usage-group">Per</label>
        <select id="usage-group" value={form.groupBy} onChange={set('groupBy')}>
          <option value="day">day</option>
          <option value="model">model</option>
        </select>
      </div>
      <button type="submit">Show</button>
      <button type="button" class="secondary" onClick={onDownload}>
        Download CSV
      </button>
    </form>
  );
}

export function Usage() {
  const [tenants, setTenants] = useState<Tenant[]>([]);
  const [form, setForm] = useState<RangeValues>({ tenant: '', from: day(Date.now() - 29 * DAY_MS), through: day(Date.now()), groupBy: 'day' });
  const [rows, setRows] = useState<UsageRow[]>([]);
  const [shown, setShown] = useState<Query>();
  const [failure, setFailure] = useState<{ message: string; fields: string[] }>();
  const [csv, setCsv] = useState<string>();

  async function load(event?: Event) {
    event?.preventDefault();
    const query = toQuery(form);
    const { data, error, response } = await api.GET('/admin/v1/usage', { params: { query } });
    if (!data) return setFailure({ message: problem(error, response), fields: [] });
    setFailure(undefined);
    // JSON here (the contract also lists the CSV form of this answer, asked for below).
    setRows(typeof data === 'string' ? [] : (data.data ?? []));
    setShown(query);
    setCsv(undefined);
  }

  async function download() {
    const { data, error, response } = await api.GET('/admin/v1/usage', {
      params: { query: shown ?? toQuery(form) },
      headers: { accept: 'text/csv' },
      parseAs: 'text',
    });
    if (data === undefined) return setFailure({ message: problem(error, response), fields: [] });
    if (csv) URL.revokeObjectURL(csv);
    const url = URL.createObjectURL(new Blob([data as unknown as string], { type: 'text/csv' }));
    setCsv(url);
    const link = document.createElement('a');
    link.href = url;
    link.download = 'usage.csv';
    link.click();
  }

  useEffect(() => {
    api.GET('/admin/v1/tenants').then(({ data }) => setTenants(data?.data ?? []));
    load();
  }, []);

  return (
    <div class="grid single">
      <Section title="Range" id="usage-range">
        <RangeForm form={form} setForm={setForm} tenants={tenants} onShow={load} onDownload={download} />
        {shown && (
          <p class="hint">
            GET /admin/v1/usage?<code data-testid="usage-query">{new URLSearchParams(shown as unknown as Record<string, string>).toString()}</code>
          </p>
        )}
        <Problem message={failure?.message} fields={failure?.fields} />
      </Section>
      <Section title="Usage" id="usage-result">
        {shown && <UsageCharts rows={rows} query={shown} />}
        {rows.length === 0 ? <p>No tasks in this range.</p> : <UsageTable rows={rows} />}
      </Section>
    </div>
  );
}

// One tenant: its keys (a new key's secret is shown once, with a copy button), its quotas (the
// API's validation messages shown as it gives them) and its model allow-list.
import { useEffect, useState } from 'preact/hooks';
import { api, type Quotas, type Tenant, type TenantKey } from '../api.js';
import { Problem, Section } from '../components.js';
import { time } from '../format.js';
import { failureOf, type Failure, modelList } from '../forms.js';

const QUOTAS: Array<{ key: keyof Quotas; label: string }> = [
  { key: 'requestsPerMinute', label: 'Requests per minute' },
  { key: 'tasksPerDay', label: 'Tasks per day' },
  { key: 'tasksPerMonth', label: 'Tasks per month' },
  { key: 'maxInFlight', label: 'Tasks in flight' },
  { key: 'budgetUsdPerMonth', label: 'Budget, USD per month' },
];

/** A new key's secret, this once: selectable, and a button that copies it. */
function IssuedSecret({ issued }: { issued: { id: string; secret: string } }) {
  const [copied, setCopied] = useState(false);
  async function copy() {
    await navigator.clipboard.writeText(issued.secret);
    setCopied(true);
  }
  return (
    <div class="secret" role="status">
      <p>
        New key <strong>{issued.id}</strong>. Copy its secret now: it is not shown again.
      </p>
      <label for="new-key-secret">Secret</label>
      <div class="row">
        <input id="new-key-secret" readOnly value={issued.secret} onFocus={(e) => e.currentTarget.select()} />
        <button type="button" onClick={copy}>
          {copied ? 'Copied' : 'Copy'}
        </button>
      </div>
    </div>
  );
}

function KeyTable({ keys, onRevoke }: { keys: TenantKey[]; onRevoke: (keyId: string) => void }) {
  return (
    <table>
      <thead>
        <tr>
          <th scope="col">Key</th>
          <th scope="col">Label</th>
          <th scope="col">Created</th>
          <th scope="col">State</th>
          <th scope="col">Actions</th>
        </tr>
      </thead>
      <tbody>
        {keys.map((k) => (
          <tr key={k.id}>
            <td>
              <code>{k.id}</code>
            </td>
            <td>{k.label ?? '—'}</td>
            <td>{time(k.createdAt)}</td>
            <td>{k.revokedAt ? `revoked ${time(k.revokedAt)}` : 'active'}</td>
            <td>
              {!k.revokedAt && (
                <button type="button" class="danger" onClick={() => onRevoke(k.id)} aria-label={`Revoke ${k.id}`}>
                  Revoke
                </button>
              )}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Keys({ tenant }: { tenant: Tenant }) {
  const [keys, setKeys] = useState<TenantKey[]>([]);
  const [label, setLabel] = useState('');
  const [issued, setIssued] = useState<{ id: string; secret: string }>();
  const [failure, setFailure] = useState<Failure>();
  const path = { tenantId: tenant.id };

  async function load() {
    const { data, error, response } = await api.GET('/admin/v1/tenants/{tenantId}/keys', { params: { path } });
    if (!data) return setFailure(failureOf(error, response));
    setKeys(data.data ?? []);
  }
  useEffect(() => {
    load();
  }, [tenant.id]);

  async function issue(event: Event) {
    event.preventDefault();
    const { data, error, response } = await api.POST('/admin/v1/tenants/{tenantId}/keys', { params: { path }, body: label ? { label } : {} });
    if (!data) return setFailure(failureOf(error, response));
    setFailure(undefined);
    setIssued({ id: data.data!.id, secret: data.data!.secret });
    setLabel('');
    await load();
  }

  async function revoke(keyId: string) {
    const { error, response } = await api.DELETE('/admin/v1/tenants/{tenantId}/keys/{keyId}', { params: { path: { ...path, keyId } } });
    setFailure(error ? failureOf(error, response) : undefined);
    if (issued?.id === keyId) setIssued(undefined);
    await load();
  }

  return (
    <>
      <h3>Keys</h3>
      <Problem message={failure?.message} fields={failure?.fields} />
      {issued && <IssuedSecret issued={issued} />}
      <KeyTable keys={keys} onRevoke={revoke} />
      <form onSubmit={issue} class="row" aria-label="Issue a key">
        <label for="new-key-label">Label</label>
        <input id="new-key-label" value={label} onInput={(e) => setLabel(e.currentTarget.value)} placeholder="optional" />
        <button type="submit">Issue key</button>
      </form>
    </>
  );
}

/** A quota as typed: a number when it reads as one, else the text (the API then says what is wrong). */
const quotaValue = (text: string): number | string => (text.trim() !== '' && !Number.isNaN(Number(text)) ? Number(text) : text);

function Settings({ tenant, onChanged }: { tenant: Tenant; onChanged: () => void }) {
  const initial = Object.fromEntries(QUOTAS.map((q) => [q.key, tenant.quotas[q.key] === undefined ? '' : String(tenant.quotas[q.key])]));
  const [quotas, setQuotas] = useState<Record<string, string>>(initial);
  const [models, setModels] = useState((tenant.models ?? []).join(', '));
  const [failure, setFailure] = useState<Failure>();
  const [saved, setSaved] = useState<string>();

  async function save(event: Event, what: 'quotas' | 'models') {
    event.preventDefault();
    const body =
      what === 'quotas'
        ? {
            quotas: Object.fromEntries(
              Object.entries(quotas)
                .filter(([, v]) => v.trim() !== '')
                .map(([k, v]) => [k, quotaValue(v)]),
            ) as Quotas,
          }
        : { models: modelList(models) ?? null };
    const { data, error, response } = await api.PATCH('/admin/v1/tenants/{tenantId}', { params: { path: { tenantId: tenant.id } }, body });
    setSaved(data ? `Saved ${what}.` : undefined);
    setFailure(data ? undefined : failureOf(error, response));
    if (data) onChanged();
  }

  return (
    <>
      <h3>Quotas</h3>
      <form onSubmit={(e) => save(e, 'quotas')} class="quotas" aria-label="Quotas">
        {QUOTAS.map((q) => (
          <div key={q.key} class="field">
            <label for={`quota-${q.key}`}>{q.label}</label>
            <input
              id={`quota-${q.key}`}
              inputMode="decimal"
              value={quotas[q.key]}
              placeholder="off"
              onInput={(e) => setQuotas({ ...quotas, [q.key]: e.currentTarget.value })}
            />
          </div>
        ))}
        <button type="submit">Save quotas</button>
      </form>
      <h3>Models</h3>
      <form onSubmit={(e) => save(e, 'models')} class="stack" aria-label="Models">
        <label for="tenant-models">Allowed models (comma-separated; empty = every model)</label>
        <textarea id="tenant-models" rows={2} value={models} onInput={(e) => setModels(e.currentTarget.value)} />
        <button type="submit">Save models</button>
      </form>
      <Problem message={failure?.message} fields={failure?.fields} />
      {saved && <p role="status">{saved}</p>}
    </>
  );
}

export function TenantDetail({ tenant, onChanged }: { tenant: Tenant; onChanged: () => void }) {
  return (
    <Section title={`Tenant ${tenant.id}`} id="tenant-detail">
      <Keys tenant={tenant} />
      <Settings tenant={tenant} onChanged={onChanged} />
    </Section>
  );
}

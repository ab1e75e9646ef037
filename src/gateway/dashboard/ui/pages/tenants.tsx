// Tenants: the list, a form to create one, and the chosen tenant's keys, quotas and models
// (tenant-detail.tsx). Every change goes through the admin API, which says what is wrong.
import { useEffect, useState } from 'preact/hooks';
import { api, type Tenant } from '../api.js';
import { Problem, Section } from '../components.js';
import { failureOf, type Failure, modelList } from '../forms.js';
import { TenantDetail } from './tenant-detail.js';

function CreateTenant({ onCreated }: { onCreated: (id: string) => void }) {
  const [id, setId] = useState('');
  const [models, setModels] = useState('');
  const [failure, setFailure] = useState<Failure>();
  async function submit(event: Event) {
    event.preventDefault();
    const { data, error, response } = await api.POST('/admin/v1/tenants', { body: { id, models: modelList(models) } });
    if (!data) return setFailure(failureOf(error, response));
    setFailure(undefined);
    setId('');
    setModels('');
    onCreated(data.data!.id);
  }
  return (
    <form onSubmit={submit} class="stack" aria-label="Create a tenant">
      <label for="new-tenant-id">Tenant id</label>
      <input id="new-tenant-id" value={id} required onInput={(e) => setId(e.currentTarget.value)} />
      <label for="new-tenant-models">Models (comma-separated; empty = every model)</label>
      <input id="new-tenant-models" value={models} onInput={(e) => setModels(e.currentTarget.value)} placeholder="z-image, kling-v3-pro" />
      <Problem message={failure?.message} fields={failure?.fields} />
      <button type="submit">Create tenant</button>
    </form>
  );
}

export function Tenants() {
  const [tenants, setTenants] = useState<Tenant[]>([]);
  const [chosen, setChosen] = useState<string>();
  const [failure, setFailure] = useState<Failure>();

  async function load() {
    const { data, error, response } = await api.GET('/admin/v1/tenants');
    if (!data) return setFailure(failureOf(error, response));
    setTenants(data.data ?? []);
  }
  useEffect(() => {
    load();
  }, []);

  async function setDisabled(tenant: Tenant, disabled: boolean) {
    const { error, response } = await api.PATCH('/admin/v1/tenants/{tenantId}', { params: { path: { tenantId: tenant.id } }, body: { disabled } });
    setFailure(error ? failureOf(error, response) : undefined);
    await load();
  }

  const current = tenants.find((t) => t.id === chosen);
  return (
    <div class="grid">
      <Section title="All tenants" id="all-tenants">
        <Problem message={failure?.message} fields={failure?.fields} />
        <table>
          <thead>
            <tr>
              <th scope="col">Tenant</th>
              <th scope="col">Models</th>
              <th scope="col">State</th>
              <th scope="col">Source</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {tenants.map((t) => (
              <tr key={t.id} aria-selected={t.id === chosen}>
                <td>
                  <button type="button" class="link" onClick={() => setChosen(t.id)} aria-label={`Manage ${t.id}`}>
                    {t.id}
                  </button>
                </td>
                <td>{t.models ? t.models.join(', ') : 'every model'}</td>
                <td>
                  <span class={`state state-${t.disabled ? 'disabled' : 'active'}`}>{t.disabled ? 'disabled' : 'enabled'}</span>
                </td>
                <td>{t.source}</td>
                <td>
                  <button
                    type="button"
                    class="secondary"
                    onClick={() => setDisabled(t, !t.disabled)}
                    aria-label={`${t.disabled ? 'Enable' : 'Disable'} ${t.id}`}
                  >
                    {t.disabled ? 'Enable' : 'Disable'}
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </Section>
      <Section title="Create a tenant" id="create-tenant">
        <CreateTenant
          onCreated={async (id) => {
            await load();
            setChosen(id);
          }}
        />
      </Section>
      {current && <TenantDetail key={current.id} tenant={current} onChanged={load} />}
    </div>
  );
}

// Tasks and deliveries: a task by id (its record, its callbacks, its history), a tenant's
// callbacks, and the deliveries that failed, each with its last answer and a redeliver button.
import { useEffect, useState } from 'preact/hooks';
import { api, problem, type Delivery, type Schemas } from '../api.js';
import { Problem, Section } from '../components.js';
import { time } from '../format.js';

type TaskHistory = NonNullable<Schemas['TaskHistoryResponse']['data']>;

function lastAnswer(d: Delivery): string {
  if (d.lastStatus !== null) return `HTTP ${d.lastStatus}${d.lastError ? `: ${d.lastError}` : ''}`;
  return d.lastError ?? '—';
}

function Deliveries({ deliveries, onRedeliver, caption }: { deliveries: Delivery[]; onRedeliver: (id: string) => void; caption: string }) {
  if (deliveries.length === 0) return <p>{caption}: none.</p>;
  return (
    <table>
      <caption>{caption}</caption>
      <thead>
        <tr>
          <th scope="col">Delivery</th>
          <th scope="col">Task</th>
          <th scope="col">Tenant</th>
          <th scope="col">State</th>
          <th scope="col" class="num">
            Attempts
          </th>
          <th scope="col">Last answer</th>
          <th scope="col">Updated</th>
          <th scope="col">Actions</th>
        </tr>
      </thead>
      <tbody>
        {deliveries.map((d) => (
          <tr key={d.id}>
            <td>
              <code>{d.id}</code>
            </td>
            <td>
              <a href={`#/tasks?task=${encodeURIComponent(d.taskId)}`}>{d.taskId}</a>
            </td>
            <td>{d.tenantId}</td>
            <td>
              <span class={`state state-${d.state}`}>{d.state}</span>
            </td>
            <td class="num">{d.attempts}</td>
            <td>{lastAnswer(d)}</td>
            <td>{time(d.updatedAt)}</td>
            <td>
              {d.state !== 'pending' && (
                <button type="button" onClick={() => onRedeliver(d.id)} aria-label={`Redeliver ${d.id}`}>
                  Redeliver
                </button>
              )}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function TaskView({ found }: { found: TaskHistory }) {
  const { task, history } = found;
  return (
    <div data-testid="task-record">
      <dl class="facts">
        {(
          [
            ['Task', task.taskId],
            ['Gateway id', task.gatewayTaskId ?? '—'],
            ['Tenant', task.tenantId],
            ['Model', task.model],
            ['State', task.state],
            ['Provider key', task.upstreamKeyId],
            ['Created', time(task.createdAt)],
            ['Final', time(task.finalAt)],
            ['Callback URL', task.callBackUrl ?? '—'],
          ] as const
        ).map(([k, v]) => (
          <div key={k}>
            <dt>{k}</dt>
            <dd>{v}</dd>
          </div>
        ))}
      </dl>
      <h3>History</h3>
      <ol class="history">
        {history.map((h, i) => (
          <li key={i}>
            <time>{time(h.at)}</time> {h.event}
          </li>
        ))}
      </ol>
      <h3>Provider's record</h3>
      <pre>{JSON.stringify(task.record, null, 2)}</pre>
    </div>
  );
}

interface SearchProps {
  taskId: string;
  setTaskId: (v: string) => void;
  tenant: string;
  setTenant: (v: string) => void;
  onTask: () => void;
  onTenant: (e: Event) => void;
}

function SearchForms({ taskId, setTaskId, tenant, setTenant, onTask, onTenant }: SearchProps) {
  return (
    <>
      <form
        class="row"
        aria-label="Find a task by id"
        onSubmit={(e) => {
          e.preventDefault();
          onTask();
        }}
      >
        <label for="task-id">Task id</label>
        <input id="task-id" value={taskId} required onInput={(e) => setTaskId(e.currentTarget.value)} placeholder="the provider's id or gt_…" />
        <button type="submit">Find task</button>
      </form>
      <form class="row" aria-label="A tenant's callbacks" onSubmit={onTenant}>
        <label for="task-tenant">Tenant</label>
        <input id="task-tenant" value={tenant} required onInput={(e) => setTenant(e.currentTarget.value)} />
        <button type="submit">Show its callbacks</button>
      </form>
    </>
  );
}

export function Tasks() {
  const initial = new URLSearchParams(location.hash.split('?')[1] ?? '').get('task') ?? '';
  const [taskId, setTaskId] = useState(initial);
  const [tenant, setTenant] = useState('');
  const [found, setFound] = useState<TaskHistory>();
  const [tenantDeliveries, setTenantDeliveries] = useState<Delivery[]>();
  const [failed, setFailed] = useState<Delivery[]>([]);
  const [failure, setFailure] = useState<string>();
  const [notice, setNotice] = useState<string>();

  async function loadFailed() {
    const { data, error, response } = await api.GET('/admin/v1/deliveries', { params: { query: { limit: 1000 } } });
    if (!data) return setFailure(problem(error, response));
    setFailed((data.data ?? []).filter((d) => d.state === 'failed'));
  }

  async function findTask(id: string) {
    const { data, error, response } = await api.GET('/admin/v1/tasks/{taskId}/history', { params: { path: { taskId: id.trim() } } });
    setFound(data?.data);
    setFailure(data ? undefined : problem(error, response));
  }

  async function findTenant(event: Event) {
    event.preventDefault();
    const { data, error, response } = await api.GET('/admin/v1/deliveries', { params: { query: { tenant: tenant.trim(), limit: 100 } } });
    setTenantDeliveries(data?.data);
    setFailure(data ? undefined : problem(error, response));
  }

  async function redeliver(id: string) {
    const { data, error, response } = await api.POST('/admin/v1/deliveries/{deliveryId}/redeliver', { params: { path: { deliveryId: id } } });
    setNotice(data ? `Delivery ${id} is pending again and will be sent now.` : undefined);
    setFailure(data ? undefined : problem(error, response));
    await loadFailed();
    if (found) await findTask(found.task.taskId);
  }

  useEffect(() => {
    loadFailed();
    if (initial) findTask(initial);
  }, []);

  return (
    <div class="grid single">
      <Section title="Find a task" id="find-task">
        <SearchForms taskId={taskId} setTaskId={setTaskId} tenant={tenant} setTenant={setTenant} onTask={() => findTask(taskId)} onTenant={findTenant} />
        <Problem message={failure} />
        {notice && <p role="status">{notice}</p>}
        {found && <TaskView found={found} />}
        {found && <Deliveries deliveries={found.deliveries} onRedeliver={redeliver} caption="This task's callbacks" />}
        {tenantDeliveries && <Deliveries deliveries={tenantDeliveries} onRedeliver={redeliver} caption={`Callbacks to ${tenant}`} />}
      </Section>
      <Section title="Failed deliveries" id="failed-deliveries">
        <Deliveries deliveries={failed} onRedeliver={redeliver} caption="Callbacks the gateway gave up on" />
      </Section>
    </div>
  );
}

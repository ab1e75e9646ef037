// Overview: tasks per minute by state, queue depth, refusals by reason, the gateway's added
// latency and the provider keys, read again every few seconds. The chart holds the readings
// taken since the page opened (the API gives the present; the page keeps the recent past).
import { useEffect, useMemo, useState } from 'preact/hooks';
import { api, problem, type Stats, type UpstreamKey } from '../api.js';
import { Chart, Problem, Section } from '../components.js';
import { time } from '../format.js';

const REFRESH_MS = 5_000;
const KEEP = 120;
const STATES = [
  { key: 'created', label: 'created', stroke: '#2563eb' },
  { key: 'succeeded', label: 'succeeded', stroke: '#16a34a' },
  { key: 'failed', label: 'failed', stroke: '#dc2626' },
  { key: 'open', label: 'open', stroke: '#d97706' },
] as const;

function useLive() {
  const [stats, setStats] = useState<Stats>();
  const [keys, setKeys] = useState<UpstreamKey[]>([]);
  const [samples, setSamples] = useState<Stats[]>([]);
  const [failure, setFailure] = useState<string>();
  useEffect(() => {
    let stopped = false;
    async function read() {
      const [s, k] = await Promise.all([api.GET('/admin/v1/stats'), api.GET('/admin/v1/upstream-keys')]);
      if (stopped) return;
      if (!s.data || !k.data) return setFailure(problem(s.error ?? k.error, s.data ? k.response : s.response));
      setFailure(undefined);
      setStats(s.data.data!);
      setKeys(k.data.data ?? []);
      setSamples((old) => [...old, s.data.data!].slice(-KEEP));
    }
    read();
    const timer = setInterval(read, REFRESH_MS);
    return () => {
      stopped = true;
      clearInterval(timer);
    };
  }, []);
  return { stats, keys, samples, failure };
}

function Refusals({ refusals }: { refusals: Stats['refusals'] }) {
  if (refusals.length === 0) return <p>None since this instance started.</p>;
  return (
    <table>
      <thead>
        <tr>
          <th scope="col">Reason</th>
          <th scope="col" class="num">
            Count
          </th>
        </tr>
      </thead>
      <tbody>
        {refusals.map((r) => (
          <tr key={r.reason}>
            <td>{r.reason}</td>
            <td class="num" data-testid={`refusals-${r.reason}`}>
              {r.count}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function ProviderKeys({ keys }: { keys: UpstreamKey[] }) {
  return (
    <table>
      <thead>
        <tr>
          <th scope="col">Key</th>
          <th scope="col">State</th>
          <th scope="col" class="num">
            Allowance / 10 s
          </th>
          <th scope="col">Why, and when tried again</th>
        </tr>
      </thead>
      <tbody>
        {keys.map((k) => (
          <tr key={k.id}>
            <td>{k.id}</td>
            <td>
              <span class={`state state-${k.state}`}>{k.state}</span>
            </td>
            <td class="num">{k.allowance}</td>
            <td>{k.reason ? `${k.reason}${k.retryAt ? `; again at ${time(k.retryAt)}` : ''}` : '—'}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function Overview() {
  const { stats, keys, samples, failure } = useLive();
  const chart = useMemo(
    (): [number[], ...number[][]] => [samples.map((s) => s.at / 1000), ...STATES.map((st) => samples.map((s) => s.tasks.lastMinute[st.key]))],
    [samples],
  );
  if (!stats) return failure ? <Problem message={failure} /> : <p>Reading…</p>;
  const minute = stats.tasks.lastMinute;
  const avg = stats.tasks.last15Minutes;
  return (
    <div class="grid">
      <Problem message={failure} />
      <Section title="Tasks per minute" id="tasks-per-minute">
        <dl class="figures" aria-live="polite">
          {STATES.map((st) => (
            <div key={st.key}>
              <dt>{st.label}</dt>
              <dd data-testid={`tasks-${st.key}`}>{minute[st.key]}</dd>
              <dd class="hint" data-testid={`tasks-${st.key}-15`}>
                {avg[st.key]} in 15 min ({(avg[st.key] / 15).toFixed(1)}/min)
              </dd>
            </div>
          ))}
        </dl>
        <p class="hint">
          Tasks created in the last minute, by their state now. Updated every {REFRESH_MS / 1000} s; last {time(stats.at)}.
        </p>
        {samples.length > 1 && <Chart label="Tasks created in the last minute, by state, at each reading" data={chart} series={[...STATES]} />}
      </Section>
      <Section title="Queue and latency" id="queue-latency">
        <dl class="figures">
          <div>
            <dt>Queue depth</dt>
            <dd data-testid="queue-depth">{stats.queueDepth ?? '—'}</dd>
            {stats.queueDepth === null && <dd class="hint">no queue: tasks are sent as admitted</dd>}
          </div>
          <div>
            <dt>Added latency p50</dt>
            <dd>{stats.addedLatencyMs.p50 === null ? '—' : `${stats.addedLatencyMs.p50} ms`}</dd>
          </div>
          <div>
            <dt>Added latency p99</dt>
            <dd>{stats.addedLatencyMs.p99 === null ? '—' : `${stats.addedLatencyMs.p99} ms`}</dd>
          </div>
        </dl>
        <p class="hint">The gateway's own time per accepted createTask (the provider's left out), last 10 minutes; {stats.addedLatencyMs.count} measured.</p>
      </Section>
      <Section title="Refusals by reason" id="refusals">
        <Refusals refusals={stats.refusals} />
      </Section>
      <Section title="Provider keys" id="provider-keys">
        <ProviderKeys keys={keys} />
      </Section>
    </div>
  );
}

// Traces (issue 19, item 4) against an OTLP/HTTP receiver started here (a small server decoding
// the JSON export): one trace per task across createTask → upstream createTask → provider
// callback → tenant delivery; the tenant's traceparent is the root's parent and the provider gets
// one; callback and delivery spans are children of (and linked to) the createTask span, found
// through the task row; no secret in any attribute. Off unless configured.
import { afterEach, describe, expect, it } from 'vitest';
import { ACME_KEY, ACME_WEBHOOK_SECRET, raw, startStack, type Stack } from '../helpers/gateway-stack.js';
import { json, startScriptedServer, type ScriptedServer } from '../helpers/scripted-server.js';
import { pollUntil } from '../helpers/wait.js';

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes?: Array<{ key: string; value: Record<string, unknown> }>;
  links?: Array<{ traceId: string; spanId: string }>;
}

let stack: Stack | undefined;
const servers: ScriptedServer[] = [];
afterEach(async () => {
  await stack?.close();
  for (const server of servers.splice(0)) await server.close();
  stack = undefined;
});

async function otlpReceiver() {
  const receiver = await startScriptedServer((_req, res) => json(res, 200, {}));
  servers.push(receiver);
  const spans = () =>
    receiver.requests.flatMap((r) => {
      const body = JSON.parse(r.body) as {
        resourceSpans: Array<{ resource: { attributes: OtlpSpan['attributes'] }; scopeSpans: Array<{ spans: OtlpSpan[] }> }>;
      };
      return body.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans.map((span) => ({ ...span, resource: rs.resource }))));
    });
  return { receiver, spans };
}

const attr = (span: OtlpSpan, key: string) => {
  const value = span.attributes?.find((a) => a.key === key)?.value;
  return value && (value.stringValue ?? value.intValue ?? value.boolValue);
};

const TENANT_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const TENANT_SPAN = '00f067aa0ba902b7';
const PROMPT = 'a lighthouse, traced';

describe('traces', () => {
  it('follows one task from the tenant through the provider and back to the tenant, in one trace', async () => {
    const { receiver, spans } = await otlpReceiver();
    const tenant = await startScriptedServer((_req, res) => res.writeHead(204).end());
    servers.push(tenant);
    stack = await startStack({
      config: () => ({
        tracing: { otlpUrl: `${receiver.url}/v1/traces`, serviceName: 'lxg-test', exportDelayMs: 50 },
        callbacks: { allowHttp: true, allowHosts: ['127.0.0.1'], retryScheduleMs: [100], pollIntervalMs: 50 },
      }),
    });
    const created = await fetch(`${stack.url}/api/v1/jobs/createTask`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ACME_KEY}`, 'content-type': 'application/json', traceparent: `00-${TENANT_TRACE}-${TENANT_SPAN}-01` },
      body: JSON.stringify({ model: 'z-image', callBackUrl: `${tenant.url}/hook`, input: { prompt: PROMPT, aspect_ratio: '1:1' } }),
    });
    const taskId = ((await created.json()) as { data: { taskId: string } }).data.taskId;
    await pollUntil('the tenant callback', () => tenant.requests[0]);

    const byName = await pollUntil('the four spans exported', async () => {
      await stack!.gateway.context.tracing.flush();
      const all = spans();
      const found = Object.fromEntries(
        ['createTask', 'upstream createTask', 'provider callback', 'tenant delivery'].map((name) => [name, all.find((s) => s.name === name)]),
      );
      return Object.values(found).every(Boolean) ? (found as Record<string, OtlpSpan & { resource: { attributes: OtlpSpan['attributes'] } }>) : undefined;
    });
    const root = byName.createTask!;
    expect(root).toMatchObject({ traceId: TENANT_TRACE, parentSpanId: TENANT_SPAN, kind: 2 });
    expect(attr(root, 'lxg.tenant')).toBe('acme');
    expect(attr(root, 'lxg.task_id')).toBe(taskId);
    expect(attr(root, 'lxg.upstream_key')).toBe('key-a');
    expect(attr(root, 'lxg.model')).toBe('z-image');
    expect(root.resource.attributes).toContainEqual({ key: 'service.name', value: { stringValue: 'lxg-test' } });
    expect(byName['upstream createTask']).toMatchObject({ traceId: TENANT_TRACE, parentSpanId: root.spanId, kind: 3 });
    expect(attr(byName['upstream createTask']!, 'lxg.upstream.code')).toBe(200);
    for (const name of ['provider callback', 'tenant delivery']) {
      const span = byName[name]!;
      expect(span, name).toMatchObject({ traceId: TENANT_TRACE, parentSpanId: root.spanId });
      expect(span.links, name).toEqual([expect.objectContaining({ traceId: TENANT_TRACE, spanId: root.spanId })]);
    }
    expect(attr(byName['tenant delivery']!, 'lxg.delivery.state')).toBe('delivered');
    expect(await stack.store.getTask(taskId)).toMatchObject({ traceParent: expect.stringContaining(root.spanId) });

    // No secret, token or prompt in anything exported.
    const exported = receiver.requests.map((r) => r.body).join('\n');
    const token = /\/callbacks\/liangxin\/[^/]+\/([^/?]+)/.exec(stack.sim.callbacks[0]!.url)![1]!;
    for (const secret of [ACME_KEY, 'sk-up-a', ACME_WEBHOOK_SECRET, token, PROMPT, tenant.url]) expect(exported, secret).not.toContain(secret);
  });

  it('sends a traceparent to the provider, of the upstream span', async () => {
    const { receiver, spans } = await otlpReceiver();
    const provider = await startScriptedServer((_req, res) => json(res, 200, { code: 200, msg: 'success', data: { taskId: 'task_traced_1' } }));
    servers.push(provider);
    stack = await startStack({ upstreamUrl: provider.url, config: () => ({ tracing: { otlpUrl: `${receiver.url}/v1/traces`, exportDelayMs: 50 } }) });
    expect(
      (await raw(`${stack.url}/api/v1/jobs/createTask`, { key: ACME_KEY, body: { model: 'z-image', input: { prompt: 'x', aspect_ratio: '1:1' } } })).status,
    ).toBe(200);
    const sent = provider.requests.find((r) => r.url.includes('createTask'))!;
    const [, traceId, spanId] = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/.exec(String(sent.headers.traceparent))!;
    const upstreamSpan = await pollUntil('the upstream span', async () => {
      await stack!.gateway.context.tracing.flush();
      return spans().find((s) => s.name === 'upstream createTask');
    });
    expect(upstreamSpan).toMatchObject({ traceId, spanId });
  });

  it('is off without the tracing section: no traceparent upstream, nothing kept on the row', async () => {
    const provider = await startScriptedServer((_req, res) => json(res, 200, { code: 200, msg: 'success', data: { taskId: 'task_untraced_1' } }));
    servers.push(provider);
    stack = await startStack({ upstreamUrl: provider.url });
    expect(stack.gateway.context.tracing.enabled).toBe(false);
    const created = await raw(`${stack.url}/api/v1/jobs/createTask`, {
      key: ACME_KEY,
      body: { model: 'z-image', input: { prompt: 'x', aspect_ratio: '1:1' } },
    });
    expect(provider.requests[0]!.headers.traceparent).toBeUndefined();
    const row = await stack.store.getTask(created.body.data.taskId);
    expect(row).toMatchObject({ providerTaskId: 'task_untraced_1' });
    expect(row!.traceParent).toBeUndefined();
  });

  it('a queued task: its dispatch, sent later, is a child of the createTask span that accepted it, and the upstream call a child of that', async () => {
    const { receiver, spans } = await otlpReceiver();
    stack = await startStack({ config: () => ({ tracing: { otlpUrl: `${receiver.url}/v1/traces`, exportDelayMs: 50 }, queue: { admission: 'queue' } }) });
    const created = await raw(`${stack.url}/api/v1/jobs/createTask`, {
      key: ACME_KEY,
      body: { model: 'z-image', input: { prompt: 'x', aspect_ratio: '1:1' } },
    });
    expect(created.status).toBe(200);
    await stack.gateway.dispatcher!.idle();
    const byName = await pollUntil('the three spans exported', async () => {
      await stack!.gateway.context.tracing.flush();
      const all = spans();
      const found = Object.fromEntries(['createTask', 'dispatch', 'upstream createTask'].map((name) => [name, all.find((s) => s.name === name)]));
      return Object.values(found).every(Boolean) ? (found as Record<string, OtlpSpan>) : undefined;
    });
    const root = byName.createTask!;
    expect(byName.dispatch).toMatchObject({ traceId: root.traceId, parentSpanId: root.spanId });
    expect(byName.dispatch!.links).toEqual([expect.objectContaining({ spanId: root.spanId })]);
    expect(attr(byName.dispatch!, 'lxg.gateway_task_id')).toBe(created.body.data.taskId);
    expect(byName['upstream createTask']).toMatchObject({ traceId: root.traceId, parentSpanId: byName.dispatch!.spanId });
  });
});

// Callbacks as the provider sends them, and as it loses, delays, duplicates and reorders them.
import { afterEach, describe, expect, it } from 'vitest';
import { createSimulator, type RunningSimulator } from '../../mock/simulator/index.js';
import { createLiangxinClient, verifyWebhook, type CallbackPayload, type CreateTaskRequest } from '../../src/client/index.js';
import { createSpecValidator } from '../../src/spec/validator.js';
import { startScriptedServer, type ScriptedServer } from '../helpers/scripted-server.js';
import { pollUntil, sleep } from '../helpers/wait.js';

let sim: RunningSimulator | undefined;
let receiver: ScriptedServer | undefined;
afterEach(async () => {
  await Promise.all([sim?.close(), receiver?.close()]);
  sim = receiver = undefined;
});

const spec = createSpecValidator();

async function run(quirks: string[], options: { hmacKey?: string; lateCallbackMs?: number; fail?: boolean } = {}) {
  receiver = await startScriptedServer((_req, res) => res.writeHead(204).end());
  sim = await createSimulator({
    timing: { lateCallbackMs: options.lateCallbackMs ?? 300 },
    accounts: [{ apiKey: 'sk-sim-dev', hmacKey: options.hmacKey, quirks: [...quirks, ...(options.fail ? ['fail'] : [])] }],
  });
  const client = createLiangxinClient({ baseUrl: sim.url, apiKey: 'sk-sim-dev' });
  const body: CreateTaskRequest = { model: 'z-image', callBackUrl: `${receiver.url}/hook?tenant=a`, input: { prompt: 'x', aspect_ratio: '1:1' } };
  const { taskId } = await client.createTask(body);
  const final = await client.waitForTask(taskId, { initialDelayMs: 20 });
  return { taskId, final, endedAt: final.completeTime! };
}

const payloads = () => receiver!.requests.map((r) => JSON.parse(r.body) as CallbackPayload);
/** Waits for the receiver to have had `n` callbacks (a ceiling, not a pace). */
const received = (n: number) => pollUntil(`${n} callback(s)`, () => receiver!.requests.length >= n);

describe('callbacks', () => {
  it('posts the final record once, in the envelope the spec describes, unsigned without an HMAC key', async () => {
    const { taskId, final } = await run([]);
    await pollUntil('the callback answered', () => sim!.callbacks.length >= 1);
    expect(receiver!.requests).toHaveLength(1);
    const [request] = receiver!.requests;
    expect(request).toMatchObject({ method: 'POST', url: '/hook?tenant=a' });
    expect(request!.headers['x-webhook-signature']).toBeUndefined();
    const [payload] = payloads();
    expect(spec.validateSchema('CallbackPayload', payload)).toMatchObject({ ok: true });
    expect(payload).toMatchObject({ code: 200, data: { ...final, taskId } });
    expect(sim!.callbacks).toMatchObject([{ taskId, status: 204, signed: false, state: 'success' }]);
  });

  it('signs it when the account has an HMAC key, verifiable with verifyWebhook', async () => {
    await run([], { hmacKey: 'whk_sim' });
    await received(1);
    const [request] = receiver!.requests;
    const verified = verifyWebhook({ body: request!.body, headers: request!.headers, hmacKey: 'whk_sim' });
    expect(verified.data.state).toBe('success');
    expect(() => verifyWebhook({ body: request!.body, headers: request!.headers, hmacKey: 'another' })).toThrow(/signature/);
  });

  it('reports a failed task in the recordInfo shape (LiangXin): code 200, the failure in the record', async () => {
    await run([], { fail: true });
    await received(1);
    expect(payloads()).toMatchObject([{ code: 200, data: { state: 'fail', failCode: '501' } }]);
    expect(spec.validateSchema('CallbackPayload', payloads()[0])).toMatchObject({ ok: true });
  });

  it('sends nothing for an empty callBackUrl (clients of the public API send "")', async () => {
    sim = await createSimulator({ accounts: [{ apiKey: 'sk-sim-dev', quirks: ['fail'] }] });
    const client = createLiangxinClient({ baseUrl: sim.url, apiKey: 'sk-sim-dev' });
    const { taskId } = await client.createTask({ model: 'z-image', callBackUrl: '', input: { prompt: 'x' } });
    await client.waitForTask(taskId, { initialDelayMs: 20 });
    await sleep(100);
    expect(sim.callbacks).toEqual([]);
  });

  it('callback=lost sends nothing', async () => {
    await run(['callback=lost']);
    await sleep(300);
    expect(receiver!.requests).toHaveLength(0);
  });

  it('callback=late arrives lateCallbackMs after the end', async () => {
    // Not "none yet" when the client sees the end: a slow run may see it later than 400 ms. The
    // arrival time says it all.
    const { endedAt } = await run(['callback=late'], { lateCallbackMs: 400 });
    await received(1);
    expect(receiver!.requests).toHaveLength(1);
    expect(receiver!.requests[0]!.at - endedAt).toBeGreaterThanOrEqual(390);
  });

  it('callback=duplicate sends the same body twice', async () => {
    await run(['callback=duplicate']);
    await received(2);
    expect(receiver!.requests).toHaveLength(2);
    expect(receiver!.requests[0]!.body).toBe(receiver!.requests[1]!.body);
  });

  it('callback=out-of-order follows the final callback with a stale one', async () => {
    const { final } = await run(['callback=out-of-order']);
    await received(2);
    const [first, second] = payloads();
    expect(first!.data.state).toBe('success');
    expect(second!.data).toMatchObject({ taskId: final.taskId, state: 'generating', resultJson: '' });
    expect(second!.data.updateTime!).toBeLessThan(first!.data.updateTime!);
  });

  it('logs a receiver that cannot be reached', async () => {
    receiver = await startScriptedServer(() => undefined);
    const deadUrl = receiver.url;
    await receiver.close();
    receiver = undefined;
    sim = await createSimulator();
    const client = createLiangxinClient({ baseUrl: sim.url, apiKey: 'sk-sim-dev' });
    await client.createTask({ model: 'z-image', callBackUrl: `${deadUrl}/hook`, input: { prompt: 'x', aspect_ratio: '1:1' } });
    await pollUntil('the attempt logged', () => sim!.callbacks.length >= 1);
    expect(sim.callbacks).toHaveLength(1);
    expect(sim.callbacks[0]!.status).toBeUndefined();
    expect(sim.callbacks[0]!.error).toBeTruthy();
  });
});

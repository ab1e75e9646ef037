// A simulator account may speak the public Market API (`dialect: market`): its ids and fields,
// its errors inside HTTP 200, its failed-task callback code; LiangXin accounts beside it do not change.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSimulator, type RunningSimulator } from '../../mock/simulator/index.js';
import { json, startScriptedServer, type ScriptedServer } from '../helpers/scripted-server.js';

let sim: RunningSimulator;
let receiver: ScriptedServer;
beforeAll(async () => {
  receiver = await startScriptedServer((_req, res) => json(res, 200, { ok: true }));
  sim = await createSimulator({
    dialect: 'market',
    accounts: [
      { apiKey: 'sk-market', dialect: 'market' },
      { apiKey: 'sk-market-poor', dialect: 'market', credits: 0 },
      { apiKey: 'sk-market-failing', dialect: 'market', quirks: ['fail'] },
      { apiKey: 'sk-liangxin' },
    ],
  });
});
afterAll(async () => {
  await sim?.close();
  await receiver?.close();
});

async function call(key: string, body: unknown) {
  const response = await fetch(`${sim.url}/api/v1/jobs/createTask`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as { code: number; msg: string; data: any } };
}

const seedream = { model: 'seedream/4.5-text-to-image', input: { prompt: 'A tea bottle', aspect_ratio: '16:9', quality: 'basic' } };

async function until<T>(probe: () => T | undefined): Promise<T> {
  for (let i = 0; i < 500; i++) {
    const value = probe();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error('never happened');
}

describe('a market account', () => {
  it('takes Market ids and fields, and shows them back', async () => {
    const created = await call('sk-market', seedream);
    expect(created).toMatchObject({ status: 200, body: { code: 200, data: { taskId: expect.any(String) } } });
    const read = async () => {
      const response = await fetch(`${sim.url}/api/v1/jobs/recordInfo?taskId=${created.body.data.taskId}`, { headers: { authorization: 'Bearer sk-market' } });
      return (await response.json()) as { code: number; data: { model: string; failCode: string | null } | null };
    };
    let record = await read();
    // Visible after visibleAfterMs; polled with a generous ceiling, within the recordInfo allowance.
    for (let i = 0; i < 500 && record.code !== 200; i++) {
      await new Promise((r) => setTimeout(r, 120));
      record = await read();
    }
    expect(record.data).toMatchObject({ model: 'seedream/4.5-text-to-image', failCode: null });
    expect(sim.accounts().find((a) => a.dialect === 'market')!.credits).toBeLessThan(1_000_000); // priced as seedream-v4-5
  });

  it('answers validation with 422 inside HTTP 200; a LiangXin id is not a Market id', async () => {
    expect(await call('sk-market', { model: 'seedream-v4-5', input: { prompt: 'x' } })).toMatchObject({
      status: 200,
      body: { code: 422, msg: expect.stringContaining('model') },
    });
    expect(await call('sk-market', { ...seedream, input: { prompt: 'x' } })).toMatchObject({ status: 200, body: { code: 422 } });
  });

  it("answers a wrong key 401 inside HTTP 200 (the simulator's dialect for unknown keys), and spent credits 402", async () => {
    expect(await call('sk-nobody', seedream)).toMatchObject({ status: 200, body: { code: 401, data: null } });
    expect(await call('sk-market-poor', seedream)).toMatchObject({ status: 200, body: { code: 402 } });
  });

  it('calls back a failed task with code 501; "" is no callback', async () => {
    await call('sk-market-failing', { ...seedream, callBackUrl: '' });
    const { body } = await call('sk-market-failing', { ...seedream, callBackUrl: `${receiver.url}/hook` });
    const posted = await until(() => receiver.requests.find((r) => r.body.includes(body.data.taskId)));
    expect(JSON.parse(posted.body)).toMatchObject({ code: 501, data: { state: 'fail', model: 'seedream/4.5-text-to-image' } });
    expect(receiver.requests).toHaveLength(1);
  });

  it('leaves a LiangXin account beside it as it was', async () => {
    expect(await call('sk-liangxin', { model: 'seedream-v4-5', input: { prompt: 'x' } })).toMatchObject({ status: 200, body: { code: 200 } });
    expect(await call('sk-liangxin', seedream)).toMatchObject({ status: 400, body: { code: 400 } });
  });
});

// The simulator is offline: it calls back this machine only, unless told otherwise, and says
// when it skips a callback. The receiver listens on 127.0.0.1 and is also reached as 0.0.0.0 (on
// Linux and macOS a connection to the unspecified address lands on this machine), a host the
// policy does not count as loopback: so a skipped callback is proven not sent, not just logged.
import { afterEach, describe, expect, it } from 'vitest';
import { createCallbackHostPolicy } from '../../mock/simulator/callback-hosts.js';
import { createCallbackSender, type CallbackTransport } from '../../mock/simulator/callbacks.js';
import { createDialects } from '../../mock/simulator/dialect.js';
import { createSpecValidator } from '../../src/spec/validator.js';
import { createSimulator, type RunningSimulator, type SimulatorOptions } from '../../mock/simulator/index.js';
import { createLiangxinClient, type TaskRecord } from '../../src/client/index.js';
import { startScriptedServer, type ScriptedServer } from '../helpers/scripted-server.js';
import { pollUntil } from '../helpers/wait.js';

let sim: RunningSimulator | undefined;
let receiver: ScriptedServer | undefined;
afterEach(async () => {
  await Promise.all([sim?.close(), receiver?.close()]);
  sim = receiver = undefined;
});

/** Polls until `probe` holds; the ceiling is generous (a busy machine is slow, never wrong). */
/** Polls until the probe gives a value (the suite's one ceiling: never the machine's speed). */
const until = pollUntil;

async function simulatorWithReceiver(options: SimulatorOptions = {}) {
  receiver = await startScriptedServer((_req, res) => res.writeHead(204).end());
  const warnings: string[] = [];
  sim = await createSimulator({ warn: (line) => warnings.push(line), ...options });
  const client = createLiangxinClient({ baseUrl: sim.url, apiKey: 'sk-sim-dev' });
  const port = new URL(receiver.url).port;
  const create = (callBackUrl: string) => client.createTask({ model: 'z-image', callBackUrl, input: { prompt: 'x', aspect_ratio: '1:1' } });
  return { warnings, create, loopbackUrl: `http://127.0.0.1:${port}/hook`, elsewhereUrl: `http://0.0.0.0:${port}/hook` };
}

describe('the callback host policy', () => {
  it('allows this machine by default, and other hosts only when named', () => {
    const policy = createCallbackHostPolicy();
    for (const url of ['http://127.0.0.1:9/h', 'http://127.8.9.10/h', 'http://[::1]:9/h', 'http://localhost/h', 'https://LOCALHOST/h']) {
      expect(policy.refusal(url), url).toBeUndefined();
    }
    for (const url of ['https://hooks.example.org/lx', 'http://0.0.0.0:9/h', 'http://10.0.0.1/h', 'http://[fd00::2]/h']) {
      expect(policy.refusal(url), url).toMatch(/is not this machine: the simulator delivers callbacks to loopback only/);
    }
    expect(policy.refusal('https://hooks.example.org/lx')).toContain('--allow-callback-host hooks.example.org');

    const named = createCallbackHostPolicy(['Hooks.Example.org', '[fd00::2]']);
    expect(named.refusal('https://hooks.example.org/lx')).toBeUndefined();
    expect(named.refusal('http://[fd00::2]/h')).toBeUndefined();
    expect(named.refusal('https://other.example.org/lx')).toBeDefined();
    expect(createCallbackHostPolicy(['*']).refusal('https://anywhere.example/lx')).toBeUndefined();
  });

  it('never hands a refused URL to the transport', async () => {
    const sent: string[] = [];
    const send: CallbackTransport = async (url) => {
      sent.push(url);
      return { statusCode: 204, body: { dump: async () => undefined } };
    };
    const warnings: string[] = [];
    const sender = createCallbackSender({
      now: () => 0,
      payload: createDialects(createSpecValidator()).liangxin.callbackPayload,
      hosts: createCallbackHostPolicy(['allowed.example']),
      warn: (l) => warnings.push(l),
      send,
    });
    const record = { taskId: 't1', state: 'success' } as TaskRecord;
    for (const url of ['https://public.example/cb', 'https://allowed.example/cb', 'https://public.example/cb']) {
      sender.schedule({ url, record: () => record, staleRecord: () => record, hmacKey: undefined, quirks: new Set() }, 0, 0);
    }
    await until('three attempts', () => sender.log.length === 3);
    expect(sent).toEqual(['https://allowed.example/cb']);
    expect(sender.log.filter((a) => a.skipped).map((a) => a.url)).toEqual(['https://public.example/cb', 'https://public.example/cb']);
    expect(warnings).toHaveLength(1); // once per host
    sender.close();
  });
});

describe('the simulator and callBackUrl', () => {
  it('skips a host that is not this machine, says so once per host, and still calls back loopback', async () => {
    const { warnings, create, loopbackUrl, elsewhereUrl } = await simulatorWithReceiver();
    const first = await create(elsewhereUrl);
    const second = await create(elsewhereUrl);
    const local = await create(loopbackUrl);
    await until('three callback attempts', () => sim!.callbacks.length === 3);

    expect(receiver!.requests.map((r) => r.url)).toEqual(['/hook']); // the loopback one only
    const byTask = (taskId: string) => sim!.callbacks.find((c) => c.taskId === taskId)!;
    expect(byTask(local.taskId)).toMatchObject({ status: 204 });
    for (const { taskId } of [first, second]) {
      expect(byTask(taskId)).toMatchObject({ url: elsewhereUrl, skipped: expect.stringMatching(/^0\.0\.0\.0 is not this machine/) });
      expect(byTask(taskId).status).toBeUndefined();
    }
    expect(warnings).toEqual([
      expect.stringMatching(/^simulator: callback for task \S+ not sent: 0\.0\.0\.0 is not this machine.*--allow-callback-host 0\.0\.0\.0/),
    ]);

    // The control API shows the same, for tests and tools in another process.
    const logged = (await (await fetch(`${sim!.url}/_simulator/callbacks`)).json()) as Array<{ taskId: string; skipped?: string }>;
    expect(logged.find((c) => c.taskId === first.taskId)?.skipped).toMatch(/not this machine/);
  });

  it('delivers to a host it was told to allow', async () => {
    const { warnings, create, elsewhereUrl } = await simulatorWithReceiver({ allowCallbackHosts: ['0.0.0.0'] });
    const { taskId } = await create(elsewhereUrl);
    await until('the callback', () => sim!.callbacks.length === 1);
    expect(sim!.callbacks[0]).toMatchObject({ taskId, status: 204 });
    expect(sim!.callbacks[0]!.skipped).toBeUndefined();
    expect(receiver!.requests).toHaveLength(1);
    expect(warnings).toEqual([]);
  });
});

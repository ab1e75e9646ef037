// Reload without a restart (issue 19, item 5): POST /admin/v1/reload reads the config file again.
// Tenants, quotas, provider keys and prices change in place; a task in flight is not disturbed
// (read with the key that created it, even once that key left the config); a bad file is refused
// with its error and the running config kept; sections read at start are named, not applied.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfigFile, type ConfigInput } from '../../src/config/index.js';
import { ACME_KEY, raw } from '../helpers/gateway-stack.js';
import { startInstances, type Instances } from '../helpers/instances.js';

let instances: Instances | undefined;
afterEach(async () => {
  await instances?.close();
  instances = undefined;
});

const INITECH_KEY = 'lxg_test_initech_0123456789abcdef';
const zImage = { model: 'z-image', input: { prompt: 'x', aspect_ratio: '1:1' } };
const video = { model: 'kling-v3-pro', input: { prompt: 'x' } };

describe('POST /admin/v1/reload', () => {
  it('applies tenants, quotas, provider keys and prices in place, leaves a task in flight alone, refuses a bad file', async () => {
    instances = await startInstances({ simulator: { timing: { videoGeneratingMs: 3_600_000 } } });
    const file = join(instances.dir, 'gateway.yaml');
    const write = (config: ConfigInput) => writeFile(file, stringify(config));
    const first = instances.config();
    await write(first);
    const gw = await instances.start(first, undefined, { loadConfig: () => loadConfigFile(file, {}) });

    const inFlight = (await raw(`${gw.url}/api/v1/jobs/createTask`, { key: ACME_KEY, body: video })).body.data.taskId as string;
    expect((await raw(`${gw.url}/api/v1/jobs/createTask`, { key: INITECH_KEY, body: zImage })).status).toBe(401);

    // The new file: a tenant more, acme limited to what it used, the provider key swapped, a price
    // changed, and a listen port (that one takes a restart).
    await write({
      ...first,
      listen: { host: '127.0.0.1', port: 18_999 },
      upstream: { ...first.upstream!, keys: [{ id: 'key-b', apiKey: 'sk-up-b' }] },
      tenants: [
        { id: 'acme', apiKeys: [ACME_KEY], quotas: { tasksPerDay: 1 } },
        { id: 'initech', apiKeys: [INITECH_KEY] },
      ],
      prices: { 'z-image': { perImage: 0.5 } },
    });
    const reloaded = await gw.admin('post', '/reload');
    expect(reloaded).toMatchObject({
      status: 200,
      body: { data: { applied: expect.arrayContaining(['tenants', 'upstream.keys', 'prices']), restartNeeded: ['listen'] } },
    });

    const initech = await raw(`${gw.url}/api/v1/jobs/createTask`, { key: INITECH_KEY, body: zImage });
    expect(initech.status).toBe(200);
    const [task] = (await gw.admin('get', '/tasks?tenant=initech')).body.data.items;
    expect(task).toMatchObject({ upstreamKey: 'key-b', estimatedCostMicros: 500_000 });
    expect((await raw(`${gw.url}/api/v1/jobs/createTask`, { key: ACME_KEY, body: zImage })).status).toBe(429);
    expect((await gw.admin('get', '/upstream-keys')).body.data.map((k: { id: string }) => k.id)).toEqual(['key-b']);
    // The task in flight is read with key-a, which left the config.
    const read = await raw(`${gw.url}/api/v1/jobs/recordInfo?taskId=${inFlight}`, { key: ACME_KEY });
    expect(read.body).toMatchObject({ code: 200, data: { taskId: inFlight } });
    expect(instances.sim.counters().recordInfo).toBeGreaterThan(0);

    // A file that does not parse changes nothing.
    await writeFile(file, stringify({ ...first, tenants: [{ id: 'has space', apiKeys: ['short'] }] }));
    const bad = await gw.admin('post', '/reload');
    expect(bad.status).toBe(422);
    expect(bad.body.msg).toMatch(/running config is kept: .*tenants\[0\]/);
    expect((await raw(`${gw.url}/api/v1/jobs/createTask`, { key: INITECH_KEY, body: zImage })).status).toBe(200);
  });

  it('is refused (409) by a gateway built without a config file', async () => {
    instances = await startInstances();
    const gw = await instances.start();
    expect(await gw.admin('post', '/reload')).toMatchObject({ status: 409, body: { msg: expect.stringContaining('not started from a config file') } });
  });
});

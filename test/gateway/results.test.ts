// Result copies end to end against the simulator: a success is copied into the blob store, its
// record then names the gateway's copy (the provider's URLs kept beside it), the copy outlives the
// provider's link, the tenant's callback carries the durable URL, retention sweeps it, and a
// result URL at a private address is refused without turning the success into a failure. S3 mode
// runs against a real S3-compatible server (s3rver).
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createLiangxinClient, type TaskRecord } from '../../src/client/index.js';
import type { ConfigInput } from '../../src/config/index.js';
import { createS3BlobStore } from '../../src/blobs/index.js';
import { download, kindOf } from '../helpers/files.js';
import { ACME_KEY, raw, startStack, type Stack } from '../helpers/gateway-stack.js';
import { S3_CREDENTIALS, startS3Server, type S3Server } from '../helpers/s3-server.js';
import { json, startScriptedServer, type ScriptedServer } from '../helpers/scripted-server.js';
import { manualClock, pollUntil } from '../helpers/wait.js';
import { successRecord } from '../fixtures/records.js';

let stack: Stack | undefined;
let dir: string | undefined;
let s3: S3Server | undefined;
let receiver: ScriptedServer | undefined;
afterEach(async () => {
  await stack?.close();
  await s3?.close();
  await receiver?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
  stack = dir = s3 = receiver = undefined;
});

type Results = NonNullable<ConfigInput['results']>;

async function start(results: Partial<Results> = {}, extra: { clock?: ReturnType<typeof manualClock>; config?: Partial<ConfigInput>; blobs?: 's3' } = {}) {
  dir = await mkdtemp(join(tmpdir(), 'lxg-results-'));
  stack = await startStack({
    clock: extra.clock,
    config: () => ({
      callbacks: { allowHttp: true, allowHosts: ['127.0.0.1'], retryScheduleMs: [100], pollIntervalMs: 50 },
      results: {
        enabled: true,
        store: { kind: 'directory', path: join(dir!, 'copies') },
        allowHttp: true,
        allowHosts: ['127.0.0.1'],
        pollIntervalMs: 50,
        retryScheduleMs: [50, 50],
        ...results,
      },
      ...extra.config,
    }),
  });
  return stack;
}

type Shown = TaskRecord & { providerTaskId?: string; resultCopy?: { state: string; expiresAt?: number; error?: string } };

async function record(s: Stack, taskId: string): Promise<Shown> {
  const answer = await raw(`${s.url}/api/v1/jobs/recordInfo?taskId=${taskId}`, { key: ACME_KEY });
  expect(answer.body.code).toBe(200);
  return answer.body.data as Shown;
}

async function create(s: Stack, extra: Record<string, unknown> = {}): Promise<string> {
  const answer = await raw(`${s.url}/api/v1/jobs/createTask`, {
    key: ACME_KEY,
    body: { model: 'z-image', input: { prompt: 'a lighthouse', aspect_ratio: '1:1' }, ...extra },
  });
  expect(answer.body.code).toBe(200);
  return answer.body.data.taskId as string;
}

/** The record once its copy settled (copied or given up). */
const settled = (s: Stack, taskId: string) =>
  pollUntil(`the copy of ${taskId}`, async () => {
    const shown = await record(s, taskId);
    return shown.resultCopy && shown.resultCopy.state !== 'pending' ? shown : undefined;
  });

const urls = (shown: Shown) => JSON.parse(shown.resultJson) as { resultUrls: string[]; originalResultUrls: string[] };

describe('result copies (directory store)', () => {
  it('keeps a copy that stays downloadable after the provider URL is gone', async () => {
    const s = await start();
    const taskId = await create(s);
    const shown = await settled(s, taskId);
    expect(shown.state).toBe('success');
    expect(shown.resultCopy).toMatchObject({ state: 'copied', expiresAt: expect.any(Number) });
    const { resultUrls, originalResultUrls } = urls(shown);
    // The provider's files are under its own id; the copies under the gateway's.
    const providerTaskId = shown.providerTaskId!;
    expect(originalResultUrls).toEqual([expect.stringContaining(`${s.sim.url}/files/${providerTaskId}/`)]);
    expect(resultUrls).toEqual([expect.stringMatching(new RegExp(`^${s.url}/results/${taskId}/0\\?expires=\\d+&sig=`))]);

    s.sim.expireResults(providerTaskId);
    expect((await download(originalResultUrls[0]!)).status).toBe(404);
    const copy = await download(resultUrls[0]!);
    expect(copy.status).toBe(200);
    expect(copy.type).toBe('image/png');
    expect(kindOf(copy.bytes)).toBe('png');

    // A link that was tampered with is refused in the envelope, and so is one without a signature.
    const forged = await raw(resultUrls[0]!.replace(/sig=./, 'sig=A'));
    expect(forged.status).toBe(403);
    expect(forged.body.msg).toMatch(/invalid or has expired/);
    expect((await raw(`${s.url}/results/${taskId}/0`)).status).toBe(403);
    // The bytes kept per tenant are in the metrics.
    // (refreshed once the copy has settled, just after the record shows it)
    const stored = new RegExp(`lxg_result_bytes_stored\\{tenant="acme"\\} ${copy.bytes.length}`);
    await pollUntil('the bytes stored in the metrics', async () => stored.test(await (await fetch(`${s.url}/metrics`)).text()));
    expect(await s.admin('GET', '/usage/results')).toMatchObject({ status: 200, body: { data: [{ tenantId: 'acme', bytes: copy.bytes.length, files: 1 }] } });
  });

  it("holds the tenant's callback until the copy is made, so it carries the durable URL", async () => {
    receiver = await startScriptedServer((_req, res) => res.writeHead(204).end());
    const s = await start();
    const taskId = await create(s, { callBackUrl: `${receiver.url}/hook` });
    const delivery = await pollUntil('the tenant callback', () => receiver!.requests[0]);
    const payload = JSON.parse(delivery.body) as { data: Shown };
    expect(payload.data.taskId).toBe(taskId);
    expect(payload.data.resultCopy?.state).toBe('copied');
    expect(urls(payload.data).resultUrls[0]).toMatch(new RegExp(`^${s.url}/results/`));
  });

  it('deletes copies when their retention is up', async () => {
    const clock = manualClock();
    const s = await start({}, { clock, config: { tenants: [{ id: 'acme', apiKeys: [ACME_KEY], results: { retainDays: 1 } }] } });
    const taskId = await create(s);
    const shown = await settled(s, taskId);
    const link = urls(shown).resultUrls[0]!;
    expect(await s.gateway.context.results!.sweep()).toBe(0);

    clock.advance(86_400_000 + 1);
    expect(await s.gateway.context.results!.sweep()).toBe(1);
    const after = await record(s, taskId);
    expect(after.state).toBe('success');
    expect(after.resultCopy?.state).toBe('expired');
    expect(urls(after).resultUrls).toEqual(urls(after).originalResultUrls);
    // Links never outlive the copy, and its files are gone from the store.
    expect((await raw(link)).status).toBe(403);
    expect(await readdir(join(dir!, 'copies', 'acme', taskId))).toEqual([]);
  });

  it('replays a copied result later than its links last with fresh links, never run-out ones', async () => {
    const clock = manualClock();
    const s = await start({ linkTtlSeconds: 60 }, { clock });
    const taskId = await create(s);
    await settled(s, taskId);
    const client = createLiangxinClient({ baseUrl: s.url, apiKey: ACME_KEY });
    const copiedEvent = async () => {
      for await (const event of client.events(taskId, { lastEventId: '0' })) {
        if ((event.record as Shown).resultCopy?.state === 'copied') return event;
      }
      throw new Error('the stream ended without the copied event');
    };
    const live = urls((await copiedEvent()).record as Shown).resultUrls[0]!;
    expect((await download(live)).status).toBe(200);

    // Two minutes on, the link written with the event has run out; the replay signs a new one.
    clock.advance(120_000);
    expect((await raw(live)).status).toBe(403);
    const replayed = urls((await copiedEvent()).record as Shown).resultUrls[0]!;
    expect(replayed).not.toBe(live);
    expect(Number(new URL(replayed).searchParams.get('expires')) * 1000).toBeGreaterThan(clock.now());
    expect((await download(replayed)).status).toBe(200);
  });

  it('refuses a result URL at a private address, and the task stays successful with the provider URL', async () => {
    const s = await start({ allowHosts: [] });
    const taskId = await create(s);
    const shown = await settled(s, taskId);
    expect(shown.state).toBe('success');
    expect(shown.resultCopy).toMatchObject({ state: 'failed', error: expect.stringMatching(/result URL points to .*loopback/i) });
    expect(urls(shown).resultUrls).toEqual(urls(shown).originalResultUrls);
    expect((await s.store.getCopy(taskId))?.attempts).toBe(1); // permanent: not retried
  });

  it('refuses a file over the size limit', async () => {
    const s = await start({ maxBytes: 100 });
    const taskId = await create(s);
    const shown = await settled(s, taskId);
    expect(shown.resultCopy).toMatchObject({ state: 'failed', error: expect.stringMatching(/over the limit of 100/) });
  });
});

describe('copies that fail for a while', () => {
  it('are retried with backoff until the file comes', async () => {
    // The provider is scripted here, so the test can say where the result lives: a file host that
    // answers 503 twice before the file.
    const files = await startScriptedServer((_req, res, i) => {
      if (i < 2) res.writeHead(503).end();
      else res.writeHead(200, { 'content-type': 'image/png' }).end(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]));
    });
    receiver = files;
    const provider = await startScriptedServer((_req, res) => json(res, 200, { code: 200, msg: 'success', data: { taskId: 'task-retry' } }));
    try {
      dir = await mkdtemp(join(tmpdir(), 'lxg-results-'));
      stack = await startStack({
        upstreamUrl: provider.url,
        config: () => ({
          results: {
            enabled: true,
            store: { kind: 'directory', path: join(dir!, 'copies') },
            allowHttp: true,
            allowHosts: ['127.0.0.1'],
            pollIntervalMs: 20,
            retryScheduleMs: [20, 20, 20],
          },
        }),
      });
      const created = await raw(`${stack.url}/api/v1/jobs/createTask`, {
        key: ACME_KEY,
        body: { model: 'z-image', input: { prompt: 'x', aspect_ratio: '1:1' } },
      });
      // The tenant holds the gateway's id; the provider's is 'task-retry'.
      const taskId = created.body.data.taskId as string;
      expect(taskId).toMatch(/^gt_/);
      const sent = JSON.parse(provider.requests[0]!.body) as { callBackUrl: string };
      const now = Date.now();
      const data = successRecord({ taskId: 'task-retry', now, param: provider.requests[0]!.body, resultUrls: [`${files.url}/r.png`] });
      const callback = await fetch(`${stack.url}${new URL(sent.callBackUrl).pathname}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ code: 200, msg: 'success', data }),
      });
      expect(callback.status).toBe(200);
      const shown = await settled(stack, taskId);
      expect(shown.resultCopy?.state).toBe('copied');
      expect(await stack.store.getCopy(taskId)).toMatchObject({ state: 'copied', attempts: 3 });
      expect(files.requests).toHaveLength(3);
    } finally {
      await provider.close();
    }
  });
});

describe('successes stored without their copy', () => {
  it('are found and copied when copies start (a crash between the two writes, or copies turned on later)', async () => {
    dir = await mkdtemp(join(tmpdir(), 'lxg-results-'));
    const file = `sqlite:${join(dir, 'gateway.db')}`;
    const before = await startStack({ config: () => ({ store: file }) });
    const taskId = await create(before);
    await pollUntil('the success, stored without copies', async () => (await before.store.getTask(taskId))?.state === 'success');
    const after = await startStack({
      config: () => ({
        store: file,
        results: { enabled: true, store: { kind: 'directory', path: join(dir!, 'copies') }, allowHttp: true, allowHosts: ['127.0.0.1'], pollIntervalMs: 50 },
      }),
    });
    try {
      const shown = await settled(after, taskId);
      expect(shown.resultCopy?.state).toBe('copied');
      expect(urls(shown).originalResultUrls[0]).toContain(before.sim.url);
    } finally {
      await after.close();
      await before.close();
    }
  });
});

describe('result copies (S3 store)', () => {
  it('copies into a real S3-compatible server and links with presigned URLs', async () => {
    s3 = await startS3Server();
    const blobs = createS3BlobStore({
      bucket: s3.bucket,
      endpoint: s3.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      prefix: 'lxg/',
      credentials: S3_CREDENTIALS,
    });
    dir = await mkdtemp(join(tmpdir(), 'lxg-results-'));
    stack = await startStack({
      config: () => ({
        results: {
          enabled: true,
          store: { kind: 's3', bucket: s3!.bucket, endpoint: s3!.endpoint, forcePathStyle: true, prefix: 'lxg/' },
          allowHttp: true,
          allowHosts: ['127.0.0.1'],
          pollIntervalMs: 50,
        },
      }),
      blobs,
    });
    const taskId = await create(stack);
    const shown = await settled(stack, taskId);
    expect(shown.resultCopy?.state).toBe('copied');
    const link = urls(shown).resultUrls[0]!;
    expect(link).toMatch(new RegExp(`^${s3.endpoint}/${s3.bucket}/lxg/acme/${taskId}/0\\.png\\?.*X-Amz-Signature=`));
    stack.sim.expireResults();
    const copy = await download(link);
    expect(copy.status).toBe(200);
    expect(kindOf(copy.bytes)).toBe('png');
  });
});

// The result downloader on its own, against a scripted server: what it refuses and why, and which
// refusals are permanent (not retried).
import { afterEach, describe, expect, it } from 'vitest';
import { createCallbackUrlGuard, createGuardedDispatcher } from '../../src/gateway/callbacks/ssrf.js';
import { createDownloader, mediaKindOf, ResultCopyError } from '../../src/gateway/results/download.js';
import { startScriptedServer, type ScriptedServer } from '../helpers/scripted-server.js';

let server: ScriptedServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

function downloader(allowHosts: string[] = ['127.0.0.1']) {
  const guard = createCallbackUrlGuard({ allowHttp: true, allowHosts, resolver: async () => [{ address: '10.0.0.8', family: 4 }] });
  return createDownloader({ guard, dispatcher: createGuardedDispatcher(guard), maxBytes: 1000, timeoutMs: 10_000 });
}

async function refusal(promise: Promise<unknown>): Promise<ResultCopyError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ResultCopyError);
  return error as ResultCopyError;
}

describe('result downloads', () => {
  it('knows which models make video', () => {
    expect(mediaKindOf('kling-v3-pro')).toBe('video');
    expect(mediaKindOf('z-image')).toBe('image');
  });

  it('refuses a content type that is not the media the model makes', async () => {
    server = await startScriptedServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<html>'));
    const error = await refusal(downloader()(`${server.url}/a.png`, 'image'));
    expect(error).toMatchObject({ code: 'CONTENT_TYPE', permanent: true });
    expect(error.message).toMatch(/sent text\/html, not the image/);
  });

  it('refuses a body longer than the limit even when no Content-Length says so', async () => {
    server = await startScriptedServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'image/png', 'transfer-encoding': 'chunked' });
      res.end(Buffer.alloc(5000));
    });
    expect(await refusal(downloader()(`${server.url}/a.png`, 'image'))).toMatchObject({ code: 'TOO_LARGE', permanent: true });
  });

  it('checks every redirect target against the SSRF guard', async () => {
    server = await startScriptedServer((_req, res) => res.writeHead(302, { location: 'http://internal.example/secret.png' }).end());
    const error = await refusal(downloader()(`${server.url}/a.png`, 'image'));
    expect(error).toMatchObject({ code: 'BLOCKED', permanent: true });
    expect(error.message).toMatch(/^result URL resolves to a private address/);
  });

  it('retries what may pass (a 503) and not a link that is gone (404)', async () => {
    server = await startScriptedServer((req, res) => res.writeHead(req.url === '/gone' ? 404 : 503).end());
    expect(await refusal(downloader()(`${server.url}/busy`, 'image'))).toMatchObject({ code: 'HTTP', permanent: false });
    expect(await refusal(downloader()(`${server.url}/gone`, 'image'))).toMatchObject({ code: 'HTTP', permanent: true });
  });
});

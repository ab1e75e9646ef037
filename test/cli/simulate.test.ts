// `simulate --allow-callback-host`, as a process: without it a callBackUrl that is not this
// machine is skipped (said on stderr and in /_simulator/callbacks), with it the callback goes.
// The receiver listens on 127.0.0.1 and is named 0.0.0.0 in the callBackUrl: that reaches this
// machine, but is not a loopback name, so the policy treats it as "elsewhere".
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import type { CallbackAttempt } from '../../mock/simulator/index.js';
import { createLiangxinClient } from '../../src/client/index.js';
import { startScriptedServer, type ScriptedServer } from '../helpers/scripted-server.js';
import { spawnCli, stop, waitForStdout } from './run-cli.js';

const children: ChildProcessWithoutNullStreams[] = [];
let receiver: ScriptedServer | undefined;
afterEach(async () => {
  await Promise.all(children.splice(0).map((child) => stop(child, 'SIGKILL')));
  await receiver?.close();
  receiver = undefined;
});

/** Runs `simulate` with `flags`, sends one task whose callBackUrl names 0.0.0.0, and returns its callback attempt. */
async function oneCallback(flags: string[]): Promise<{ attempt: CallbackAttempt; stderr: () => string }> {
  receiver ??= await startScriptedServer((_req, res) => res.writeHead(204).end());
  const child = spawnCli(['simulate', '--port', '0', '--json', ...flags]);
  children.push(child);
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const { baseUrl, apiKey } = JSON.parse((await waitForStdout(child, /\n/)).split('\n')[0]!) as { baseUrl: string; apiKey: string };
  const client = createLiangxinClient({ baseUrl, apiKey });
  const callBackUrl = `http://0.0.0.0:${new URL(receiver.url).port}/hook`;
  const { taskId } = await client.createTask({ model: 'z-image', callBackUrl, input: { prompt: 'x', aspect_ratio: '1:1' } });
  // Polled with a generous ceiling: a busy machine is slow, never wrong.
  const deadline = Date.now() + 30_000;
  for (;;) {
    const attempts = (await (await fetch(`${baseUrl}/_simulator/callbacks`)).json()) as CallbackAttempt[];
    const attempt = attempts.find((a) => a.taskId === taskId);
    if (attempt) return { attempt, stderr: () => stderr };
    if (Date.now() > deadline) throw new Error('no callback attempt within 30 s');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('simulate and callbacks', () => {
  it('skips a callBackUrl that is not this machine, and says so', async () => {
    const { attempt, stderr } = await oneCallback([]);
    expect(attempt.skipped).toMatch(/^0\.0\.0\.0 is not this machine/);
    expect(attempt.status).toBeUndefined();
    expect(receiver!.requests).toEqual([]);
    const deadline = Date.now() + 30_000;
    while (!stderr().includes('not sent') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(stderr()).toMatch(/^simulator: callback for task \S+ not sent: 0\.0\.0\.0 is not this machine.*--allow-callback-host 0\.0\.0\.0/m);
  });

  it('delivers to a host given with --allow-callback-host', async () => {
    const { attempt, stderr } = await oneCallback(['--allow-callback-host', '0.0.0.0']);
    expect(attempt).toMatchObject({ status: 204 });
    expect(attempt.skipped).toBeUndefined();
    expect(receiver!.requests.map((r) => r.url)).toEqual(['/hook']);
    expect(stderr()).not.toContain('not sent');
  });

  it('says in its banner where callbacks go', async () => {
    const child = spawnCli(['simulate', '--port', '0', '--allow-callback-host', 'hooks.example.org']);
    children.push(child);
    const out = await waitForStdout(child, /Press Ctrl\+C to stop\./);
    expect(out).toMatch(/^Callbacks: to this machine only and hooks\.example\.org$/m);
  });
});

// The long-running commands as a user meets them: `start` (what `npm start` runs) must print
// curl lines that work as printed, and `simulate` must serve what its flags ask for; both stop
// cleanly on a signal.
import { execFile, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { HANG_CEILING_MS } from '../helpers/wait.js';
import { runCli, spawnCli, stderrLines, stop, waitForStdout } from './run-cli.js';

const run = promisify(execFile);
const children: ChildProcessWithoutNullStreams[] = [];
afterEach(async () => {
  await Promise.all(children.splice(0).map((child) => stop(child, 'SIGKILL')));
});

function launch(args: string[]): ChildProcessWithoutNullStreams {
  const child = spawnCli(args);
  children.push(child);
  return child;
}

interface QuickStart {
  baseUrl: string;
  apiKey: string;
  dashboardUrl: string;
  adminToken: string;
  curl: { createTask: string; recordInfo: string };
}

async function bash(script: string, env: Record<string, string> = {}): Promise<string> {
  const { stdout } = await run('bash', ['-c', script], { env: { ...process.env, ...env }, timeout: HANG_CEILING_MS });
  return stdout;
}

describe('start', () => {
  it('prints one JSON line whose curl lines create a task and read it to a downloadable result', async () => {
    const child = launch(['start', '--port', '0', '--json']);
    const line = (await waitForStdout(child, /\n/)).split('\n')[0]!;
    const quick = JSON.parse(line) as QuickStart;
    expect(quick.baseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(quick.apiKey).toMatch(/^sk-dev-[0-9a-f]{24}$/);
    // The dashboard's URL, and a token it signs in with.
    expect(quick.dashboardUrl).toBe(`${quick.baseUrl}/dashboard/`);
    const signIn = await fetch(`${quick.baseUrl}/dashboard/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: quick.adminToken }),
    });
    expect(signIn.status).toBe(200);

    // The createTask line, run as printed, leaves the id in $TASK_ID and echoes it.
    const created = await bash(quick.curl.createTask);
    const taskId = /^TASK_ID=(\S+)$/m.exec(created)?.[1];
    expect(taskId, created).toBeDefined();

    // The recordInfo line, as printed, with $TASK_ID set the way the first line sets it.
    let record: { state: string; resultJson: string } | undefined;
    // The quick start's simulator takes a few seconds per task (demo timing); the ceiling is for a hang.
    const deadline = Date.now() + HANG_CEILING_MS;
    while (Date.now() < deadline) {
      const answer = JSON.parse(await bash(quick.curl.recordInfo, { TASK_ID: taskId! })) as { code: number; data: typeof record };
      if (answer.code === 200 && answer.data!.state === 'success') {
        record = answer.data;
        break;
      }
      expect(answer.code).toBe(200); // "waiting" before the provider shows it, never "recordInfo is null"
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    expect(record, `the task did not succeed within ${HANG_CEILING_MS / 1000} s`).toBeDefined();
    const [url] = (JSON.parse(record!.resultJson) as { resultUrls: string[] }).resultUrls;
    const file = await fetch(url!);
    expect(file.status).toBe(200);
    expect(file.headers.get('content-type')).toMatch(/^image\//);
    expect((await file.arrayBuffer()).byteLength).toBeGreaterThan(0);

    expect(await stop(child, 'SIGTERM')).toBe(0);
  });

  it('prints the base URL, the key and the lines for people, and stops on Ctrl+C', async () => {
    const child = launch(['start', '--port', '0']);
    const out = await waitForStdout(child, /Press Ctrl\+C to stop\./);
    const baseUrl = /Base URL: +(\S+)/.exec(out)?.[1];
    const apiKey = /API key: +(sk-dev-[0-9a-f]{24})$/m.exec(out)?.[1];
    expect(baseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(out).toContain(`Authorization: Bearer ${apiKey}`);
    expect(out).toContain(`TASK_ID=$(curl -sS -X POST '${baseUrl}/api/v1/jobs/createTask'`);
    expect(out).toContain(`'${baseUrl}/api/v1/jobs/recordInfo?taskId='"$TASK_ID"`);
    expect(out).toContain(
      `npx liangxin-gateway create z-image --input '{"prompt":"A lighthouse at dawn, watercolor","aspect_ratio":"16:9"}' --wait --base-url '${baseUrl}' --api-key '${apiKey}'`,
    );
    expect(out).toMatch(new RegExp(`Dashboard: ${baseUrl}/dashboard/ +\\(sign in with the admin token adm-dev-[0-9a-f]{32}\\)`));
    expect(await stop(child, 'SIGINT')).toBe(0);
  });

  it('refuses a port in use with exit 2', async () => {
    const first = launch(['start', '--port', '0', '--json']);
    const { baseUrl } = JSON.parse((await waitForStdout(first, /\n/)).split('\n')[0]!) as QuickStart;
    const result = await runCli(['start', '--port', new URL(baseUrl).port]);
    expect(result.code).toBe(2);
    expect(stderrLines(result)).toEqual([expect.stringMatching(/^error: port \d+ is in use/)]);
  });
});

describe('simulate', () => {
  it('serves the account its flags describe until SIGTERM', async () => {
    const apiKey = 'sk-sim-cli-flags';
    const child = launch(['simulate', '--port', '0', '--api-key', apiKey, '--quirk', 'fail', '--json']);
    const { baseUrl, apiKey: printed } = JSON.parse((await waitForStdout(child, /\n/)).split('\n')[0]!) as QuickStart;
    expect(printed).toBe(apiKey);
    // The quirk reached the account: the task fails, and the CLI says so with exit 1.
    const failed = await runCli([
      'create',
      'z-image',
      '--input',
      '{"prompt":"x","aspect_ratio":"1:1"}',
      '--wait',
      '--poll-interval',
      '50',
      '--base-url',
      baseUrl,
      '--api-key',
      apiKey,
    ]);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/error: task \S+ failed: 501/);
    // Only that key is an account.
    const other = await runCli(['create', 'z-image', '--input', '{"prompt":"x","aspect_ratio":"1:1"}', '--base-url', baseUrl, '--api-key', 'sk-sim-dev']);
    expect(other.code).toBe(1);
    expect(await stop(child, 'SIGTERM')).toBe(0);
  });

  it('prints its URL and key for people', async () => {
    const child = launch(['simulate', '--port', '0', '--timing', 'demo']);
    const out = await waitForStdout(child, /Press Ctrl\+C to stop\./);
    expect(out).toMatch(/^LiangXin simulator at http:\/\/127\.0\.0\.1:\d+ \(timing: demo\)$/m);
    expect(out).toMatch(/^API key: sk-sim-dev$/m);
    expect(await stop(child, 'SIGINT')).toBe(0);
  });

  it('refuses an unknown quirk or timing with exit 2', async () => {
    const quirk = await runCli(['simulate', '--port', '0', '--quirk', 'explode']);
    expect(quirk.code).toBe(2);
    expect(stderrLines(quirk)).toEqual(['error: unknown simulator quirk "explode"']);
    const timing = await runCli(['simulate', '--port', '0', '--timing', 'instant']);
    expect(timing.code).toBe(2);
    expect(timing.stderr).toMatch(/error: option '--timing <preset>' argument 'instant' is invalid/);
  });
});

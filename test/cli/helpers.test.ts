// The CLI's small pieces that a child process cannot show: the progress line on a terminal,
// file extensions for downloads, and the quoting of the quick start lines.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import type { TaskRecord } from '../../src/client/index.js';
import { extensionFor } from '../../src/cli/download.js';
import { describeError, redact } from '../../src/cli/exit.js';
import { createProgressReporter } from '../../src/cli/output.js';
import { quickStartLines, shQuote } from '../../src/cli/quickstart.js';
import { LiangxinError, LiangxinTimeoutError, LiangxinTransportError } from '../../src/client/index.js';

const run = promisify(execFile);

function record(state: TaskRecord['state'], progress?: number): TaskRecord {
  return {
    taskId: 't1',
    model: 'kling-v3-pro',
    state,
    param: '',
    resultJson: '',
    failCode: null,
    failMsg: null,
    costTime: null,
    completeTime: null,
    createTime: 0,
    ...(progress !== undefined ? { progress } : {}),
  };
}

function fakeStream(isTTY: boolean) {
  const writes: string[] = [];
  return { writes, stream: { isTTY, write: (text: string) => writes.push(text) } };
}

describe('progress reporter', () => {
  it('in a pipe: one line per change of state or progress', () => {
    let now = 0;
    const { writes, stream } = fakeStream(false);
    const reporter = createProgressReporter('t1', stream, () => now);
    for (const [t, r] of [
      [1000, record('queuing')],
      [2500, record('queuing')],
      [4000, record('generating', 40)],
      [5000, record('generating', 40)],
      [6000, record('success', 100)],
    ] as const) {
      now = t;
      reporter.update(r);
    }
    reporter.done();
    expect(writes).toEqual(['task t1: queuing  1.0 s\n', 'task t1: generating  4.0 s  40%\n', 'task t1: success  6.0 s  100%\n']);
  });

  it("says where a task waits in the gateway's queue: queued (position N)", () => {
    let now = 0;
    const { writes, stream } = fakeStream(false);
    const reporter = createProgressReporter('gt_1', stream, () => now);
    for (const [t, position] of [
      [1000, 3],
      [2000, 3],
      [3000, 1],
    ] as const) {
      now = t;
      reporter.update({ ...record('waiting'), queuePosition: position } as ReturnType<typeof record>);
    }
    now = 4000;
    reporter.update(record('generating'));
    expect(writes).toEqual(['task gt_1: queued (position 3)  1.0 s\n', 'task gt_1: queued (position 1)  3.0 s\n', 'task gt_1: generating  4.0 s\n']);
  });

  it('on a terminal: one line redrawn with \\r, ended by done()', () => {
    let now = 0;
    const { writes, stream } = fakeStream(true);
    const reporter = createProgressReporter('t1', stream, () => now);
    now = 1500;
    reporter.update(record('generating', 10));
    reporter.update(record('generating', 10));
    reporter.done();
    expect(writes).toEqual([
      '\rtask t1: created  0.0 s\u001b[K',
      '\rtask t1: generating  1.5 s  10%\u001b[K',
      '\rtask t1: generating  1.5 s  10%\u001b[K',
      '\n',
    ]);
  });
});

describe('download file names', () => {
  it('take the extension from the URL path, else the content type', () => {
    expect(extensionFor('https://cdn.example.com/a/b/0.PNG?sig=x', 'image/jpeg')).toBe('png');
    expect(extensionFor('https://cdn.example.com/a/b/file', 'video/mp4; charset=binary')).toBe('mp4');
    expect(extensionFor('https://cdn.example.com/a/b/file', 'image/jpeg')).toBe('jpg');
    expect(extensionFor('https://cdn.example.com/a.b/file', null)).toBe('bin');
  });
});

describe('error lines', () => {
  it('map each error type to its exit code and keep the key out', () => {
    const key = 'sk-live-SECRET-123';
    const refused = new LiangxinError({ code: 402, msg: `no credits left for ${key}`, httpStatus: 200, operation: 'createTask' });
    expect(describeError(refused)).toEqual({ line: `402 no credits left for ${key}`, exitCode: 1 });
    expect(redact(describeError(refused).line, [key])).toBe('402 no credits left for ***');
    expect(describeError(new LiangxinTimeoutError('t9', 5000, 'queuing')).exitCode).toBe(3);
    const transport = describeError(new LiangxinTransportError('getTask', 'could not reach the server'), { baseUrl: 'http://user:pw@127.0.0.1:1' });
    expect(transport).toEqual({ line: 'could not reach the server at http://127.0.0.1:1', exitCode: 4 });
  });
});

describe('quick start lines', () => {
  it('quote any value so bash reads it back unchanged', async () => {
    const tricky = `it's "$HOME" \`id\` \\n`;
    const { stdout } = await run('bash', ['-c', `printf %s ${shQuote(tricky)}`]);
    expect(stdout).toBe(tricky);
  });

  it('build the curl lines from the base URL and key given', () => {
    const lines = quickStartLines('http://127.0.0.1:9999/', 'sk-dev-abc');
    expect(lines.curl.createTask).toContain("'http://127.0.0.1:9999/api/v1/jobs/createTask'");
    expect(lines.curl.createTask).toContain("-H 'Authorization: Bearer sk-dev-abc'");
    expect(lines.curl.recordInfo).toBe(`curl -sS -H 'Authorization: Bearer sk-dev-abc' 'http://127.0.0.1:9999/api/v1/jobs/recordInfo?taskId='"$TASK_ID"`);
  });

  it('extract the taskId with sed from a compact or a spaced answer', async () => {
    const sed = /\| (sed -n '[^']*')\)/.exec(quickStartLines('http://x', 'k').curl.createTask)![1]!;
    for (const body of ['{"code":200,"msg":"success","data":{"taskId":"task_abc_1"}}', '{ "code": 200, "data": { "taskId": "task_abc_1" } }']) {
      const { stdout } = await run('bash', ['-c', `printf %s ${shQuote(body)} | ${sed}`]);
      expect(stdout.trim()).toBe('task_abc_1');
    }
  });
});

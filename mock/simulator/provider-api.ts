// The provider's own API as the simulator plays it: createTask, recordInfo and the result files.
// Each call goes: auth → quirks → rate limit → (createTask) validate → sub-key limit → credits.
// Answers that differ between LiangXin and the public API are worded by the dialect (dialect.ts);
// the quirks, 433 and 455 are the public API's codes and stay as they are.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CreateTaskRequest } from '../../src/client/types.js';
import { microsToCredits } from '../../src/pricing/money.js';
import { estimateCostMicros, videoSeconds } from '../../src/pricing/prices.js';
import { admit, type Account } from './accounts.js';
import { bearer, BodyError, envelope, readJson, send, sleep } from './http.js';
import { renderImage, videoFor } from './media.js';
import { parseQuirks, QuirkError, quirksFromHeader, QUIRKS_HEADER, type Quirks } from './quirks.js';
import type { SimulatorState } from './state.js';
import { createSimTask, recordAt, stateAt } from './tasks.js';

type Admitted = { account: Account; quirks: Quirks };

/** Auth, quirks and the rate limit shared by both API calls; answers and returns undefined when refused. */
async function admitCall(state: SimulatorState, req: IncomingMessage, res: ServerResponse, kind: 'create' | 'read'): Promise<Admitted | undefined> {
  const key = bearer(req);
  const account = key === undefined ? undefined : state.accounts.byKey(key);
  if (!account) return void state.dialect.unauthorized(res);

  let quirks: Quirks;
  try {
    quirks = parseQuirks([...account.quirks, ...quirksFromHeader(req.headers[QUIRKS_HEADER])]);
  } catch (error) {
    if (error instanceof QuirkError) return void envelope(res, 400, 400, error.message);
    throw error;
  }
  if (quirks.slowMs > 0) await sleep(quirks.slowMs);
  if (state.maintenance) return void envelope(res, 200, 455, 'Service unavailable, under maintenance');
  if (quirks.http)
    return void envelope(
      res,
      quirks.http,
      quirks.http,
      `Simulated HTTP ${quirks.http}`,
      null,
      quirks.http === 429 || quirks.http === 455 ? { 'retry-after': '1' } : {},
    );
  if (quirks.error) return void envelope(res, 200, quirks.error, `Simulated error ${quirks.error}`);

  const [calls, limit, windowMs] = kind === 'create' ? [account.createCalls, state.createPer10s, 10_000] : [account.readCalls, state.recordInfoPerSecond, 1000];
  const waitMs = admit(calls, limit, windowMs, state.now());
  if (waitMs > 0) {
    state.counters[kind === 'create' ? 'createTask429' : 'recordInfo429']++;
    return void envelope(res, 429, 429, 'Too many requests', null, { 'retry-after': String(Math.ceil(waitMs / 1000)) });
  }
  return { account, quirks };
}

export async function createTask(state: SimulatorState, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const admitted = await admitCall(state, req, res, 'create');
  if (!admitted) return;
  const { account, quirks } = admitted;

  let body: unknown;
  try {
    body = await readJson(req);
  } catch (error) {
    if (error instanceof BodyError) return state.dialects[account.dialect].unreadableBody(res, error);
    throw error;
  }
  const dialect = state.dialects[account.dialect];
  const checked = dialect.validator().validateCreateTask<CreateTaskRequest>(body);
  // The spec's schema and its x-liangxin-rules (Kling's 15 s, combined image counts) alike.
  if (!checked.ok) return dialect.invalidInput(res, checked);
  const request = checked.value;
  if (account.taskLimit !== undefined && account.tasksCreated >= account.taskLimit) {
    return envelope(res, 200, 433, 'Sub-key usage limit exceeded');
  }
  // Prices, defaults and media follow the LiangXin model a Market id denotes.
  const model = dialect.liangxinModel(request.model);
  const credits = microsToCredits(estimateCostMicros({ model, input: request.input as Record<string, unknown> }) ?? 0);
  if (account.credits < credits) return dialect.insufficientCredits(res);

  const now = state.now();
  const defaults = state.defaults.get(model) ?? {};
  const task = createSimTask({ body: request, accountId: account.id, now, timing: state.timing, willFail: quirks.fail, credits, defaults });
  account.credits -= credits;
  account.tasksCreated += 1;
  state.tasks.set(task.taskId, task);
  state.onCreated(task, account, quirks);
  envelope(res, 200, 200, 'success', { taskId: task.taskId, recordId: task.taskId });
}

export async function recordInfo(state: SimulatorState, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  const admitted = await admitCall(state, req, res, 'read');
  if (!admitted) return;
  const taskId = url.searchParams.get('taskId');
  if (!taskId) return envelope(res, 400, 400, 'taskId is required');
  const task = state.tasks.get(taskId);
  const now = state.now();
  // Another account's task answers exactly like a task that does not exist.
  if (!task || task.accountId !== admitted.account.id || now < task.visibleAt) {
    return envelope(res, 200, 422, 'recordInfo is null');
  }
  envelope(res, 200, 200, 'success', recordAt(task, now, { publicUrl: state.publicUrl, noFailure: state.dialects[admitted.account.dialect].noFailure }));
}

const CONTENT_TYPES = { png: 'image/png', jpeg: 'image/jpeg', mp4: 'video/mp4' } as const;

/** Result files are public, like the provider's CDN links, and exist once the task succeeded. */
export function resultFile(state: SimulatorState, res: ServerResponse, taskId: string, name: string): void {
  const task = state.tasks.get(taskId);
  const file = task?.files.find((f) => f.name === name);
  if (!task || !file || stateAt(task, state.now()) !== 'success') {
    send(res, 404, { code: 404, msg: 'Not found', data: null });
    return;
  }
  // An expired link answers like the provider's CDN does once a file is gone.
  if (state.expiredFiles.has('*') || state.expiredFiles.has(taskId)) {
    send(res, 404, { code: 404, msg: 'Not found', data: null });
    return;
  }
  const cacheKey = `${taskId}/${name}`;
  let bytes = state.fileCache.get(cacheKey);
  if (!bytes) {
    bytes =
      file.format === 'mp4'
        ? videoFor(file.aspectRatio, videoSeconds(task.body.input as Record<string, unknown>))
        : renderImage(taskId + name, file.aspectRatio, file.format);
    state.fileCache.set(cacheKey, bytes);
  }
  res.writeHead(200, { 'content-type': CONTENT_TYPES[file.format], 'content-length': bytes.length });
  res.end(bytes);
}

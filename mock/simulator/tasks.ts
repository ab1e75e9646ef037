// A simulated task and the record the provider would report for it at a given moment. Nothing
// ticks: the state is computed from the clock (waiting → queuing → generating → success|fail),
// so a task moves on by itself and a test clock can move it on instantly.
import type { CreateTaskRequest, TaskRecord, TaskState } from '../../src/client/types.js';
import { imageCount } from '../../src/pricing/prices.js';
import type { ImageFormat } from './media.js';
import type { Timing } from './options.js';

export interface ResultFile {
  name: string;
  kind: 'image' | 'video';
  format: ImageFormat | 'mp4';
  aspectRatio: string | undefined;
}

export interface SimTask {
  taskId: string;
  accountId: string;
  model: string;
  body: CreateTaskRequest;
  createdAt: number;
  visibleAt: number;
  queuingAt: number;
  generatingAt: number;
  endAt: number;
  willFail: boolean;
  /** Credits charged at creation (refunded when the task fails). */
  credits: number;
  files: ResultFile[];
}

/** Provider defaults for the aspect ratio where it is not 1:1 (the spec's field descriptions). */
const DEFAULT_ASPECT_RATIO: Record<string, string> = { 'google/imagen4-fast': '16:9', 'kling-v3-pro': '16:9' };

function resultFiles(body: CreateTaskRequest): ResultFile[] {
  const input = body.input as Record<string, unknown>;
  const aspectRatio = String(input.aspect_ratio ?? input.image_size ?? DEFAULT_ASPECT_RATIO[body.model] ?? '1:1');
  if (body.model === 'kling-v3-pro') return [{ name: '0.mp4', kind: 'video', format: 'mp4', aspectRatio }];
  const requested = String(input.output_format ?? (body.model === 'nano-banana-pro-flash' ? 'jpg' : 'png'));
  const format: ImageFormat = requested === 'png' ? 'png' : 'jpeg';
  const ext = format === 'png' ? 'png' : 'jpg';
  return Array.from({ length: imageCount(input) }, (_, i) => ({ name: `${i}.${ext}`, kind: 'image' as const, format, aspectRatio }));
}

let sequence = 0;

export function newTaskId(model: string, now: number): string {
  sequence = (sequence + 1) % 1_000_000;
  const slug = model.replace(/[^a-z0-9]+/gi, '_').toLowerCase();
  return `task_${slug}_${now}${String(sequence).padStart(6, '0')}`;
}

export function createSimTask(init: {
  body: CreateTaskRequest;
  accountId: string;
  now: number;
  timing: Timing;
  willFail: boolean;
  credits: number;
}): SimTask {
  const { body, now, timing } = init;
  const generating = body.model === 'kling-v3-pro' ? timing.videoGeneratingMs : timing.generatingMs;
  const queuingAt = now + timing.waitingMs;
  const generatingAt = queuingAt + timing.queuingMs;
  return {
    taskId: newTaskId(body.model, now),
    accountId: init.accountId,
    model: body.model,
    body,
    createdAt: now,
    visibleAt: now + timing.visibleAfterMs,
    queuingAt,
    generatingAt,
    endAt: generatingAt + generating,
    willFail: init.willFail,
    credits: init.credits,
    files: resultFiles(body),
  };
}

export function stateAt(task: SimTask, now: number): TaskState {
  if (now >= task.endAt) return task.willFail ? 'fail' : 'success';
  if (now >= task.generatingAt) return 'generating';
  if (now >= task.queuingAt) return 'queuing';
  return 'waiting';
}

const STATE_SINCE: Record<TaskState, (t: SimTask) => number> = {
  waiting: (t) => t.createdAt,
  queuing: (t) => t.queuingAt,
  generating: (t) => t.generatingAt,
  success: (t) => t.endAt,
  fail: (t) => t.endAt,
};

export const GENERATION_FAILED = { failCode: '501', failMsg: 'Generation failed, please try again' } as const;

/** The record as recordInfo (and the callback) reports it at `now`. */
export function recordAt(task: SimTask, now: number, publicUrl: string, state: TaskState = stateAt(task, now)): TaskRecord {
  const final = state === 'success' || state === 'fail';
  const record: TaskRecord = {
    taskId: task.taskId,
    model: task.model,
    state,
    param: JSON.stringify(task.body),
    resultJson:
      state === 'success'
        ? JSON.stringify({ resultUrls: task.files.map((f) => `${publicUrl}/files/${task.taskId}/${f.name}`) })
        : '',
    failCode: state === 'fail' ? GENERATION_FAILED.failCode : null,
    failMsg: state === 'fail' ? GENERATION_FAILED.failMsg : null,
    // Seconds, as live data shows (the spec marks the unit as assumed).
    costTime: final ? Math.round((task.endAt - task.createdAt) / 1000) : null,
    completeTime: final ? task.endAt : null,
    createTime: task.createdAt,
    updateTime: STATE_SINCE[state](task),
  };
  if (task.model === 'kling-v3-pro') {
    const span = task.endAt - task.generatingAt;
    record.progress =
      state === 'success' ? 100 : state === 'generating' && span > 0 ? Math.min(99, Math.floor(((now - task.generatingAt) / span) * 100)) : 0;
  }
  if (final) record.creditsConsumed = state === 'success' ? task.credits : 0;
  return record;
}

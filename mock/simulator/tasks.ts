// A simulated task and the record the provider would report for it at a given moment. Nothing
// ticks: the state is computed from the clock (waiting → queuing → generating → success|fail),
// so a task moves on by itself and a test clock can move it on instantly.
import { isFinalState, type CreateTaskRequest, type TaskRecord, type TaskState } from '../../src/client/types.js';
import { imageCount, makesVideo } from '../../src/pricing/prices.js';
import type { InputDefaults } from '../../src/spec/defaults.js';
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

/**
 * The shape asked for, as a ratio (`16:9`, `1024:768`) or a name (`widescreen_16_9`,
 * `square_hd`): what was sent, in the provider's order of priority (Z-Image: image_size over
 * aspect_ratio), else the spec's defaults in the same order.
 */
function requestedShape(input: Record<string, unknown>, defaults: InputDefaults): string | undefined {
  for (const source of [input, defaults]) {
    const named = source.image_size ?? source.aspect_ratio;
    if (named !== undefined) return String(named);
    if (source.width !== undefined && source.height !== undefined) return `${String(source.width)}:${String(source.height)}`;
  }
  return undefined;
}

function resultFiles(body: CreateTaskRequest, defaults: InputDefaults): ResultFile[] {
  const input = body.input as Record<string, unknown>;
  const aspectRatio = requestedShape(input, defaults);
  if (makesVideo(body.model)) return [{ name: '0.mp4', kind: 'video', format: 'mp4', aspectRatio }];
  // png, jpeg, jpg, image/png, image/jpeg…: anything that is not png is drawn as a JPEG.
  const format: ImageFormat = String(input.output_format ?? defaults.output_format ?? 'png').includes('png') ? 'png' : 'jpeg';
  const ext = format === 'png' ? 'png' : 'jpg';
  return Array.from({ length: imageCount({ ...defaults, ...input }) }, (_, i) => ({ name: `${i}.${ext}`, kind: 'image' as const, format, aspectRatio }));
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
  /** The spec's defaults of this model's input fields. */
  defaults: InputDefaults;
}): SimTask {
  const { body, now, timing } = init;
  const generating = makesVideo(body.model) ? timing.videoGeneratingMs : timing.generatingMs;
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
    files: resultFiles(body, init.defaults),
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

export interface RecordOptions {
  publicUrl: string;
  /** `failCode` and `failMsg` while the task has not failed (the dialect's). */
  noFailure: '' | null;
  /** Report this state instead of the one at `now` (a stale callback). */
  state?: TaskState;
}

/** The record as recordInfo (and the callback) reports it at `now`. */
export function recordAt(task: SimTask, now: number, options: RecordOptions): TaskRecord {
  const { publicUrl, noFailure, state = stateAt(task, now) } = options;
  const final = isFinalState(state);
  const record: TaskRecord = {
    taskId: task.taskId,
    model: task.model,
    state,
    param: JSON.stringify(task.body),
    resultJson: state === 'success' ? JSON.stringify({ resultUrls: task.files.map((f) => `${publicUrl}/files/${task.taskId}/${f.name}`) }) : '',
    failCode: state === 'fail' ? GENERATION_FAILED.failCode : noFailure,
    failMsg: state === 'fail' ? GENERATION_FAILED.failMsg : noFailure,
    // Seconds, as live data shows (the spec marks the unit as assumed).
    costTime: final ? Math.round((task.endAt - task.createdAt) / 1000) : null,
    completeTime: final ? task.endAt : null,
    createTime: task.createdAt,
    updateTime: STATE_SINCE[state](task),
  };
  if (makesVideo(task.model)) {
    const span = task.endAt - task.generatingAt;
    record.progress = state === 'success' ? 100 : state === 'generating' && span > 0 ? Math.min(99, Math.floor(((now - task.generatingAt) / span) * 100)) : 0;
  }
  if (final) record.creditsConsumed = state === 'success' ? task.credits : 0;
  return record;
}

// Names for the generated types that users of the client write in their own code. Everything
// here is derived from src/generated/liangxin.ts: change the spec, not these lines.
import type { components } from '../generated/liangxin.js';

type Schemas = components['schemas'];

/** A createTask body; its type narrows by `model`. */
export type CreateTaskRequest = Schemas['CreateTaskRequest'];
/** Every model name createTask accepts. */
export type ModelName = CreateTaskRequest['model'];
/** The `input` of one model, for example `ModelInput<'kling-v3-pro'>`. */
export type ModelInput<M extends ModelName> = Extract<CreateTaskRequest, { model: M }>['input'];
/** What createTask answers inside `data`. */
export type CreatedTask = Schemas['CreateTaskResponse']['data'];
/** A task as recordInfo (and the callback) reports it. */
export type TaskRecord = Schemas['TaskRecord'];

/**
 * A record read through the gateway (openapi/gateway.yaml GatewayTaskRecord): the provider's
 * fields and the gateway's extension fields, each absent when talking to the provider itself.
 */
export type GatewayTaskRecord = TaskRecord & {
  /** The provider's own id for a task the gateway names `gt_…`. */
  providerTaskId?: string;
  /** While queued at the gateway: 1 + the tasks of the same tenant ahead of it. */
  queuePosition?: number;
  /** While queued at the gateway: when it was accepted (Unix ms). */
  queuedAt?: number;
};
export type TaskState = Schemas['TaskState'];
/** The body the provider posts to `callBackUrl`. */
export type CallbackPayload = Schemas['CallbackPayload'];
/** `TaskRecord.resultJson`, parsed. */
export type TaskResult = Schemas['TaskResult'];
/** `TaskRecord.param`, parsed. */
export type TaskParam = Schemas['TaskParam'];
/** Every error code the provider may put in the body. */
export type ErrorCode = Schemas['ErrorCode'];

export const FINAL_STATES: readonly TaskState[] = ['success', 'fail'];

export function isFinalState(state: TaskState): boolean {
  return state === 'success' || state === 'fail';
}

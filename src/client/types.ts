// Names for the generated types that users of the client write in their own code. Everything
// here is derived from src/generated/liangxin.ts: change the spec, not these lines.
import type { components } from '../generated/liangxin.js';
import type { components as GatewayComponents, operations as GatewayOperations } from '../generated/gateway.js';

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

/** The states a task ends in: nothing about it changes after them. The one list (gateway, store and simulator use it too). */
export const FINAL_STATES = ['success', 'fail'] as const satisfies readonly TaskState[];
export type FinalState = (typeof FINAL_STATES)[number];

/** Whether a state (the provider's, or one of the gateway's own such as `sending`) is final. */
export function isFinalState(state: string): state is FinalState {
  return (FINAL_STATES as readonly string[]).includes(state);
}

/**
 * The fail codes of a task the gateway ended while it was still queued, never sent (gateway
 * queue/cancel.ts), by why it ended: its tenant cancelled it, or its deadline (Cancel-After,
 * tasks.maxLifetimeMs) passed. It cost nothing. The one statement of them: the gateway writes
 * them, the usage ledger counts them apart, a client may compare a record's failCode with them.
 */
export const UNSENT_FAIL_CODES = { cancelled: 'GATEWAY_CANCELLED', expired: 'GATEWAY_DEADLINE' } as const;
export type UnsentEnd = keyof typeof UNSENT_FAIL_CODES;

/** The gateway's task lists (GET /api/v1/jobs/list): one of the tenant's tasks, newest first. Only liangxin-gateway serves it. */
export type TaskSummary = GatewayComponents['schemas']['TaskSummary'];
/** One page of the tenant's tasks; pass `nextCursor` back as `cursor` for the next (null on the last). */
export type TaskPage = NonNullable<GatewayComponents['schemas']['TaskListResponse']['data']>;
/** Filters and page of listTasks: state, model, from/to (Unix ms or ISO 8601), cursor, limit (1-200). */
export type TaskListQuery = NonNullable<GatewayOperations['listTasks']['parameters']['query']>;

// Gateways for quota tests: tenant acme with the quotas a test names, in front of a simulator
// with room to spare (its own limits never get in the way), optionally on a shared Redis.
import { randomUUID } from 'node:crypto';
import type { CreateTaskRequest } from '../../src/client/index.js';
import type { ConfigInput } from '../../src/config/index.js';
import { ACME_KEY, ACME_WEBHOOK_SECRET, raw, startStack, type Stack, type StackOptions } from './gateway-stack.js';
import { pollUntil } from './wait.js';

export type Quotas = NonNullable<NonNullable<ConfigInput['tenants']>[number]['quotas']>;

export const zImage: CreateTaskRequest = { model: 'z-image', input: { prompt: 'x', aspect_ratio: '1:1' } }; // $0.004
export const proImage: CreateTaskRequest = { model: 'nano-banana-pro', input: { prompt: 'xy' } }; // $0.09 (LiangXin: a prompt of 2 characters at least)
export const video: CreateTaskRequest = { model: 'kling-v3-pro', input: { prompt: 'x' } };
/** Image tasks end in a fraction of a second, video tasks never (during a run, however slow). */
export const videoNeverEnds = { timing: { videoGeneratingMs: 3_600_000 } };
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface QuotaStackOptions {
  simulator?: StackOptions['simulator'];
  extra?: Partial<ConfigInput>;
  redisUrl?: string;
  /** Gateways meant to share quota state name one prefix; otherwise each has its own. */
  sharedPrefix?: string;
  /** The gateway's clock (a manual one moves only when told). */
  clock?: StackOptions['clock'];
}

/** A gateway for tenant acme (with a webhookSecret) with these quotas; the caller closes it. */
export function quotaStack(quotas: Quotas, options: QuotaStackOptions = {}): Promise<Stack> {
  return startStack({
    clock: options.clock,
    simulator: { createPer10s: 1000, recordInfoPerSecond: 1000, ...options.simulator },
    config: (simUrl) => ({
      upstream: { baseUrl: simUrl, keys: [{ id: 'key-a', apiKey: 'sk-up-a', createPer10s: 1000, recordInfoPerSecond: 1000 }] },
      tenants: [{ id: 'acme', apiKeys: [ACME_KEY], quotas, webhookSecret: ACME_WEBHOOK_SECRET }],
      ...(options.redisUrl ? { redis: { url: options.redisUrl, prefix: options.sharedPrefix ?? `t${randomUUID()}` } } : {}),
      ...options.extra,
    }),
  });
}

export const create = (stack: Stack, body: unknown = zImage) => raw(`${stack.url}/api/v1/jobs/createTask`, { key: ACME_KEY, body });
export const read = (stack: Stack, taskId: string) => raw(`${stack.url}/api/v1/jobs/recordInfo?taskId=${taskId}`, { key: ACME_KEY });

export async function finish(stack: Stack, taskId: string) {
  return pollUntil(`task ${taskId} to end`, async () => {
    const answer = await read(stack, taskId);
    return answer.status === 200 && ['success', 'fail'].includes(answer.body.data.state) ? answer.body.data : undefined;
  });
}

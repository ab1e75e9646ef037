// The simulator's own control API under /_simulator, for tests and tools in another process:
// read what the "provider" saw and change an account or the maintenance switch while running.
// Accounts are named by id; their API keys are never shown.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AccountError, view, type AccountPatch } from './accounts.js';
import type { CallbackAttempt } from './callbacks.js';
import { BodyError, readJson, send } from './http.js';
import { QuirkError } from './quirks.js';
import type { SimulatorState } from './state.js';
import { stateAt } from './tasks.js';

export interface TaskSummary {
  taskId: string;
  accountId: string;
  model: string;
  state: string;
  createdAt: number;
  credits: number;
}

export function summarizeTasks(state: SimulatorState, accountId?: string): TaskSummary[] {
  const now = state.now();
  return [...state.tasks.values()]
    .filter((t) => !accountId || t.accountId === accountId)
    .map((t) => ({ taskId: t.taskId, accountId: t.accountId, model: t.model, state: stateAt(t, now), createdAt: t.createdAt, credits: t.credits }));
}

export async function control(state: SimulatorState, callbacks: CallbackAttempt[], req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  const route = `${req.method} ${url.pathname}`;
  try {
    if (route === 'GET /_simulator/accounts') return send(res, 200, state.accounts.list());
    if (route === 'GET /_simulator/tasks') return send(res, 200, summarizeTasks(state, url.searchParams.get('account') ?? undefined));
    if (route === 'GET /_simulator/callbacks') return send(res, 200, callbacks);
    if (route === 'GET /_simulator/counters') return send(res, 200, state.counters);
    if (route === 'PUT /_simulator/maintenance') {
      const body = (await readJson(req)) as { on?: unknown };
      if (typeof body?.on !== 'boolean') return send(res, 400, { error: 'body must be {"on": true|false}' });
      state.maintenance = body.on;
      return send(res, 200, { maintenance: state.maintenance });
    }
    if (route === 'POST /_simulator/files/expire') {
      const body = (await readJson(req)) as { taskId?: unknown } | null;
      if (body?.taskId !== undefined && typeof body.taskId !== 'string') return send(res, 400, { error: 'body must be {"taskId"?: string}' });
      state.expiredFiles.add((body?.taskId as string | undefined) ?? '*');
      return send(res, 200, { expired: (body?.taskId as string | undefined) ?? '*' });
    }
    const accountMatch = /^PATCH \/_simulator\/accounts\/([^/]+)$/.exec(route);
    if (accountMatch) {
      const patch = (await readJson(req)) as AccountPatch;
      const account = state.accounts.update(decodeURIComponent(accountMatch[1]!), patch ?? {});
      return account ? send(res, 200, view(account)) : send(res, 404, { error: 'no such account' });
    }
    send(res, 404, { error: `no control route ${route}` });
  } catch (error) {
    if (error instanceof BodyError || error instanceof QuirkError || error instanceof AccountError) return send(res, 400, { error: error.message });
    throw error;
  }
}

// Writes the tenants' event logs: every stored change of a task (records.ts's `task` signal), a
// task's creation (`created`), and a result copy made or given up (`copied`, the record then names
// the durable URLs). Each event carries the record as the tenant is shown it. Appends for one task
// run one after another, so its events keep the order its changes had. After each append the
// other instances are woken (fan-out) and this one's hub too. Old events are pruned (events.retainMs).
import type { TaskRecord } from '../../client/types.js';
import type { TaskRow } from '../../store/types.js';
import type { GatewayContext } from '../context.js';
import type { CreatedTask } from '../http/types.js';
import { createdEvent, EVENT_WRITTEN, knownRecord, tenantView } from '../tasks/records.js';
import type { Fanout } from './fanout.js';
import type { EventHub } from './hub.js';

export function startEventRecorder(ctx: GatewayContext, fanout: Fanout, hub: EventHub) {
  const chains = new Map<string, Promise<void>>();

  async function append(row: Pick<TaskRow, 'taskId' | 'providerTaskId' | 'tenantId' | 'callBackUrl' | 'model' | 'param'>, record: TaskRecord): Promise<void> {
    const view = tenantView(record, row);
    const shown = ctx.results && view.state === 'success' ? await ctx.results.present(view, row.taskId) : view;
    const seq = await ctx.store.appendEvent({
      tenantId: row.tenantId,
      taskId: row.taskId,
      state: view.state,
      record: JSON.stringify(shown),
      createdAt: ctx.clock.now(),
    });
    written(row.tenantId, seq);
  }

  /** This instance's listeners and every other instance's learn of the new event. */
  function written(tenantId: string, seq: number): void {
    hub.wake(tenantId, seq);
    fanout.publish(tenantId, seq);
  }

  function inOrder(taskId: string, step: () => Promise<void>): void {
    const next = (chains.get(taskId) ?? Promise.resolve())
      .then(step)
      .catch((e: unknown) => ctx.logger.warn({ err: e, taskId }, 'events: cannot append to the event log'))
      .finally(() => {
        if (chains.get(taskId) === next) chains.delete(taskId);
      });
    chains.set(taskId, next);
  }

  const fromStore = (taskId: string) => async () => {
    const row = await ctx.store.getTask(taskId);
    if (row) await append(row, knownRecord(row));
  };
  const onTask = (row: TaskRow, record: TaskRecord) => inOrder(row.taskId, () => append(row, record));
  // From what the answer knew, not a read of the row: the store writes it only while nothing the
  // provider said has reached the row (else that change's event, already on its way, tells more).
  const onCreated = (task: CreatedTask) =>
    inOrder(task.taskId, async () => {
      const seq = await ctx.store.appendCreatedEvent(createdEvent(task, ctx.clock.now()));
      if (seq !== undefined) written(task.tenantId, seq);
    });
  const onCopied = (taskId: string) => inOrder(taskId, fromStore(taskId));
  // Written with another write (a createTask's confirmation: tasks/create.ts): only told here.
  const onWritten = (tenantId: string, seq: number) => written(tenantId, seq);
  ctx.events.on('task', onTask);
  ctx.events.on('created', onCreated);
  ctx.events.on('copied', onCopied);
  ctx.events.on(EVENT_WRITTEN, onWritten);

  const prune = () =>
    ctx.store
      .pruneEvents(ctx.clock.now() - ctx.config.events.retainMs)
      .catch((e: unknown) => ctx.logger.warn({ err: e }, 'events: cannot prune the event log'));
  const pruner = setInterval(prune, Math.min(ctx.config.events.retainMs, 60 * 60_000));
  pruner.unref();

  return {
    prune,
    /** Resolves when every append begun so far is written. */
    idle: () => Promise.all(chains.values()).then(() => undefined),
    async stop() {
      clearInterval(pruner);
      ctx.events.off('task', onTask);
      ctx.events.off('created', onCreated);
      ctx.events.off('copied', onCopied);
      ctx.events.off(EVENT_WRITTEN, onWritten);
      await Promise.all(chains.values());
    },
  };
}

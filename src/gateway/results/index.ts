// Result copies, wired: when records.ts stores a success (`task` on ctx.events), a copy is
// enqueued (store: result_copies) and the copy worker woken; once it is made or given up, the
// task's held callback is released carrying the copy's URLs, and listeners hear of it (`copied`).
// Records are shown through `present`: a fresh signed (directory) or presigned (S3) link per file.
// A success the gateway stored while it was killed before enqueueing its copy is found again at
// start and at every sweep (successesWithoutCopy), so no paid result is left uncopied.
import type { TaskRecord } from '../../client/types.js';
import { createBlobStore, resultsDirectory } from '../../blobs/index.js';
import type { BlobStore } from '../../blobs/types.js';
import type { CopyRow, TaskRow } from '../../store/types.js';
import { createCallbackUrlGuard, createGuardedDispatcher, type Resolver } from '../callbacks/ssrf.js';
import type { GatewayContext } from '../context.js';
import { knownRecord, tenantView } from '../tasks/records.js';
import { startCopier } from './copier.js';
import { createDownloader } from './download.js';
import { createLinkSigner, signingKeyFor } from './links.js';
import { createResultServer } from './serve.js';
import { createSweeper } from './sweeper.js';
import { createPresenter } from './present.js';
import { resultUrlsOf } from './view.js';

export { RESULTS_PATH } from './links.js';
export type { PresentedRecord, ResultCopyView } from './view.js';
export type { ResultCopies } from './types.js';
import type { ResultCopies } from './types.js';

const DAY_MS = 86_400_000;

export interface ResultCopiesDeps {
  /** The blob store; built from the config when absent. */
  blobs?: BlobStore;
  /** DNS for the download guard (tests answer without a network). */
  resolver?: Resolver;
}

export async function createResultCopies(ctx: GatewayContext, deps: ResultCopiesDeps = {}): Promise<ResultCopies> {
  const cfg = ctx.config.results;
  const blobs = deps.blobs ?? createBlobStore(ctx.config);
  const signer = blobs.presign ? undefined : createLinkSigner(await signingKeyFor(cfg.signingKey, resultsDirectory(ctx.config)));
  const retention = new Map(ctx.config.tenants.filter((t) => t.results?.retainDays).map((t) => [t.id, t.results!.retainDays! * DAY_MS]));
  const retainMsOf = (tenantId: string) => retention.get(tenantId) ?? cfg.retainDays * DAY_MS;
  const guard = createCallbackUrlGuard({ allowHttp: cfg.allowHttp, allowHosts: [...cfg.allowHosts], resolver: deps.resolver });
  const dispatcher = createGuardedDispatcher(guard, { connectTimeoutMs: Math.min(cfg.timeoutMs, 10_000), responseTimeoutMs: cfg.timeoutMs });
  const download = createDownloader({ guard, dispatcher, maxBytes: cfg.maxBytes, timeoutMs: cfg.timeoutMs });

  const present = createPresenter(ctx, blobs, signer);

  async function refreshBytes(): Promise<void> {
    for (const { tenantId, bytes } of await ctx.store.copyBytesByTenant()) ctx.metrics.resultBytesStored.set({ tenant: tenantId }, bytes);
  }

  async function enqueue(taskId: string, tenantId: string, record: TaskRecord): Promise<void> {
    const sources = resultUrlsOf(record);
    if (sources.length === 0) {
      await ctx.store.releaseDelivery(taskId, ctx.clock.now());
      return;
    }
    if (await ctx.store.enqueueCopy({ taskId, tenantId, sources, retainMs: retainMsOf(tenantId), createdAt: ctx.clock.now() })) ctx.events.emit('copy');
  }

  /** A copy's outcome is known: its callback goes now, with what the record shows of the copy. */
  async function settled(copy: CopyRow): Promise<void> {
    const row = await ctx.store.getTask(copy.taskId);
    if (row) {
      const data = await present(tenantView(knownRecord(row), row), row.taskId);
      const released = await ctx.store.releaseDelivery(row.taskId, ctx.clock.now(), JSON.stringify({ code: 200, msg: 'success', data }));
      if (released) ctx.events.emit('delivery');
    }
    ctx.events.emit('copied', copy.taskId);
    await refreshBytes().catch(() => undefined);
  }

  const onTask = (row: TaskRow, record: TaskRecord) => {
    if (record.state !== 'success') return;
    enqueue(row.taskId, row.tenantId, record).catch((e: unknown) => ctx.logger.error({ err: e, taskId: row.taskId }, 'result copy: cannot enqueue'));
  };
  ctx.events.on('task', onTask);

  /** Successes stored without their copy (the instance died between the two writes). */
  async function catchUp(): Promise<void> {
    const since = ctx.clock.now() - cfg.retainDays * DAY_MS;
    for (const found of await ctx.store.successesWithoutCopy(since, 500)) {
      await enqueue(found.taskId, found.tenantId, JSON.parse(found.record) as TaskRecord);
    }
  }

  const sweeper = createSweeper(ctx, blobs, refreshBytes, catchUp);
  const serveResult = signer ? createResultServer(ctx, blobs, signer) : undefined;

  return {
    present,
    callbackHoldMs: (record) => (record.state === 'success' && resultUrlsOf(record).length > 0 ? cfg.callbackWaitMs : 0),
    ...(serveResult && { serve: serveResult }),
    sweep: async () => {
      const deleted = await sweeper.sweep();
      await catchUp();
      return deleted;
    },
    startWorkers() {
      const copier = startCopier(ctx, { blobs, download, settled });
      // Its first round runs now: expired copies, then successes left without a copy.
      sweeper.start();
      refreshBytes().catch(() => undefined);
      return {
        async stop() {
          await Promise.all([copier.stop(), sweeper.stop()]);
        },
      };
    },
    async close() {
      ctx.events.off('task', onTask);
      await dispatcher.close();
      await blobs.close();
    },
  };
}

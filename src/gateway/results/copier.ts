// The copy worker: makes the durable copy of each successful task's result files. The outbox's
// pattern (callbacks/outbox.ts): any instance runs it, a copy is leased before it is made so no
// two workers make it at once, and one whose worker died (kill -9 mid-download) is taken again
// when its lease runs out. Failed attempts are retried on the configured schedule; a permanent
// refusal (a private address, a file too large, not the media the model makes, a link gone) or
// the schedule's end gives up: the task stays successful with the provider's URLs and its record
// says why. Either way the task's held callback is released.
import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import type { BlobStore } from '../../blobs/types.js';
import type { CopiedFile, CopyRow } from '../../store/types.js';
import type { GatewayContext } from '../context.js';
import { startLeasedWorker } from '../workers/leased-worker.js';
import { mediaKindOf, ResultCopyError, type Downloader } from './download.js';
import { extensionOfType } from '../../blobs/extensions.js';

export interface CopierOptions {
  blobs: BlobStore;
  download: Downloader;
  /** After a copy's final outcome (copied or failed): release its callback, tell listeners. */
  settled(copy: CopyRow): Promise<void>;
  random?: () => number;
}

const BATCH = 4;
/** Where file `index` of a task's copy is kept: the tenant's own prefix, so a bucket policy can follow tenants. */
export function blobKey(copy: Pick<CopyRow, 'tenantId' | 'taskId'>, index: number, contentType: string): string {
  const ext = extensionOfType(contentType);
  return `${encodeURIComponent(copy.tenantId)}/${encodeURIComponent(copy.taskId)}/${index}.${ext}`;
}

export function startCopier(ctx: GatewayContext, options: CopierOptions) {
  const owner = `copier-${randomUUID()}`;
  const cfg = ctx.config.results;
  const random = options.random ?? Math.random;
  const abort = new AbortController();

  async function copyFiles(copy: CopyRow): Promise<CopiedFile[]> {
    const row = await ctx.store.getTask(copy.taskId);
    const kind = mediaKindOf(row?.model ?? '');
    const files: CopiedFile[] = [];
    for (const [index, url] of copy.sources.entries()) {
      const started = performance.now();
      const file = await options.download(url, kind, abort.signal);
      try {
        const key = blobKey(copy, index, file.contentType);
        await options.blobs.putFile(key, file.path, { contentType: file.contentType, bytes: file.bytes });
        files.push({ key, contentType: file.contentType, bytes: file.bytes });
        ctx.metrics.resultCopyBytes.inc(file.bytes);
        ctx.metrics.resultCopySeconds.observe((performance.now() - started) / 1000);
      } finally {
        await rm(file.path, { force: true });
      }
    }
    return files;
  }

  async function attempt(copy: CopyRow): Promise<void> {
    const now = () => ctx.clock.now();
    let outcome: Parameters<GatewayContext['store']['finishCopy']>[2];
    try {
      outcome = { state: 'copied', files: await copyFiles(copy), now: now() };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const base = cfg.retryScheduleMs[copy.attempts];
      const permanent = error instanceof ResultCopyError && error.permanent;
      outcome =
        permanent || base === undefined
          ? { state: 'failed', error: message, now: now() }
          : { state: 'pending', error: message, nextAttemptAt: now() + Math.round(base * (0.8 + 0.4 * random())), now: now() };
    }
    const applied = await ctx.store.finishCopy(copy.taskId, owner, outcome);
    ctx.metrics.resultCopies.inc({ outcome: outcome.state });
    const log = {
      taskId: copy.taskId,
      tenantId: copy.tenantId,
      state: outcome.state,
      attempt: copy.attempts + 1,
      applied,
      ...(outcome.state !== 'copied' && { error: outcome.error }),
    };
    ctx.logger[outcome.state === 'failed' ? 'warn' : 'info'](log, 'result copy attempt');
    if (!applied) {
      // Another worker took the copy over (our lease ran out): its files are the ones recorded.
      if (outcome.state === 'copied') await Promise.all(outcome.files.map((f) => options.blobs.delete(f.key).catch(() => undefined)));
      return;
    }
    if (outcome.state !== 'pending') {
      const settledCopy = await ctx.store.getCopy(copy.taskId);
      if (settledCopy) await options.settled(settledCopy);
    }
  }

  const worker = startLeasedWorker({
    name: 'result copy',
    claim: (limit) => ctx.store.claimCopies(owner, ctx.clock.now(), cfg.leaseMs, limit),
    work: attempt,
    describe: (c) => ({ taskId: c.taskId }),
    batch: BATCH,
    pollIntervalMs: cfg.pollIntervalMs,
    wakeOn: { events: ctx.events, event: 'copy' },
    logger: ctx.logger,
    // Downloads in flight end with the worker.
    onStop: () => abort.abort(),
  });
  return { owner, ...worker };
}

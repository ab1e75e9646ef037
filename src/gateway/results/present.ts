// Records shown with their copies: a fresh link per file on every read, valid for
// results.linkTtlSeconds and never past the copy's own expiry. The directory store's links are
// signed by the gateway (links.ts, served by serve.ts); an S3 store presigns its own.
import type { TaskRecord } from '../../client/types.js';
import type { BlobStore } from '../../blobs/types.js';
import type { CopyRow } from '../../store/types.js';
import type { GatewayContext } from '../context.js';
import type { LinkSigner } from './links.js';
import { presentRecord, type PresentedRecord } from './view.js';

export function createPresenter(ctx: GatewayContext, blobs: BlobStore, signer: LinkSigner | undefined) {
  const ttlMs = ctx.config.results.linkTtlSeconds * 1000;

  async function linkFor(copy: CopyRow, index: number): Promise<string> {
    const now = ctx.clock.now();
    const until = Math.min(now + ttlMs, copy.expiresAt ?? Number.MAX_SAFE_INTEGER);
    const seconds = Math.max(1, Math.floor((until - now) / 1000));
    const key = copy.files![index]!.key;
    if (blobs.presign) return blobs.presign(key, seconds);
    return `${ctx.publicUrl()}${signer!.sign(copy.taskId, index, Math.floor(now / 1000) + seconds)}`;
  }

  /** A success with its copy's links (one store read); anything else as it is. */
  return async function present(record: TaskRecord, taskId: string): Promise<PresentedRecord> {
    if (record.state !== 'success') return record;
    return presentRecord(record, await ctx.store.getCopy(taskId), linkFor);
  };
}

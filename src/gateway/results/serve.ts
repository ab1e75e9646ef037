// GET /results/{taskId}/{index}?expires=…&sig=…: a copy in the directory store, served to whoever
// holds a link the gateway signed (no tenant key: the link is the credential, like a presigned
// URL, and it expires). An S3 store never needs this route: its links are S3's own.
import type { IncomingMessage } from 'node:http';
import { pipeline } from 'node:stream/promises';
import type { BlobStore } from '../../blobs/types.js';
import type { GatewayContext } from '../context.js';
import { refusal } from '../errors.js';
import type { ApiResponse } from '../respond.js';
import { parseResultsPath, type LinkSigner } from './links.js';

export function createResultServer(ctx: GatewayContext, blobs: BlobStore, signer: LinkSigner) {
  return async function serveResult(_req: IncomingMessage, res: ApiResponse, rest: string, query: URLSearchParams): Promise<void> {
    const target = parseResultsPath(rest);
    const expires = Number(query.get('expires'));
    const signature = query.get('sig') ?? '';
    if (!target || !signer.verify(target.taskId, target.index, expires, signature, Math.floor(ctx.clock.now() / 1000))) {
      throw refusal('result_link', 'This result link is invalid or has expired: read the task again for a fresh one');
    }
    const copy = await ctx.store.getCopy(target.taskId);
    const file = copy?.state === 'copied' ? copy.files?.[target.index] : undefined;
    const blob = file && (await blobs.get(file.key));
    if (!blob) throw refusal('result_gone', 'This result copy is no longer kept');
    res.locals.taskId = target.taskId;
    res.writeHead(200, {
      'content-type': blob.contentType,
      'content-length': blob.bytes,
      // The link is a credential: keep it out of shared caches.
      'cache-control': 'private, max-age=300',
    });
    await pipeline(blob.body, res);
  };
}

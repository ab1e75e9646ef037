// A successful record as tenants see it once the gateway keeps copies: `resultJson.resultUrls`
// names the copies (fresh signed or presigned links, so clients work unchanged), the provider's
// own URLs stay in `resultJson.originalResultUrls`, and `resultCopy` says where the copy stands.
// A copy that is not made (pending, failed, expired) leaves the provider's URLs in place: a
// success stays a success whatever becomes of its copy.
import type { TaskRecord } from '../../client/types.js';
import type { CopyRow, CopyState } from '../../store/types.js';
import type { components } from '../../generated/gateway.js';

/** `resultCopy` of a record (openapi/gateway.yaml ResultCopy). */
export type ResultCopyView = components['schemas']['ResultCopy'] & { state: CopyState };

export type PresentedRecord = TaskRecord & { resultCopy?: ResultCopyView };

/** A link to file `index` of a copy, valid for the configured time (never past the copy's expiry). */
export type LinkFor = (copy: CopyRow, index: number) => Promise<string>;

function parsedResult(resultJson: string | null | undefined): Record<string, unknown> | undefined {
  if (!resultJson) return undefined;
  try {
    const value = JSON.parse(resultJson) as unknown;
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** The provider's result URLs of a record (what a copy is made from). */
export function resultUrlsOf(record: Pick<TaskRecord, 'resultJson'>): string[] {
  const urls = parsedResult(record.resultJson)?.resultUrls;
  return Array.isArray(urls) ? urls.filter((u): u is string => typeof u === 'string') : [];
}

export async function presentRecord(record: TaskRecord, copy: CopyRow | undefined, linkFor: LinkFor): Promise<PresentedRecord> {
  if (record.state !== 'success' || !copy) return record;
  const result = parsedResult(record.resultJson) ?? {};
  const view: ResultCopyView = { state: copy.state };
  let urls: string[] = copy.sources;
  if (copy.state === 'copied' && copy.files) {
    urls = await Promise.all(copy.files.map((_, i) => linkFor(copy, i)));
    if (copy.expiresAt !== null) view.expiresAt = copy.expiresAt;
  }
  if (copy.state === 'failed' && copy.lastError) view.error = copy.lastError;
  return { ...record, resultJson: JSON.stringify({ ...result, resultUrls: urls, originalResultUrls: copy.sources }), resultCopy: view };
}

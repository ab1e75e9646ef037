// Signed, expiring links to copies in the directory store: `/results/{taskId}/{index}?expires=…&sig=…`,
// HMAC-SHA256 over the path and expiry. A link is made when a record is shown (never stored), so
// every answer carries a fresh one; S3 copies get S3's own presigned URLs instead.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export const RESULTS_PATH = '/results';

export interface LinkSigner {
  /** The path and query of a link valid until `expiresAtSeconds` (Unix seconds). */
  sign(taskId: string, index: number, expiresAtSeconds: number): string;
  /** Whether the signature fits the path and has not expired at `nowSeconds`. */
  verify(taskId: string, index: number, expiresAtSeconds: number, signature: string, nowSeconds: number): boolean;
}

export function createLinkSigner(key: Buffer | string): LinkSigner {
  const mac = (taskId: string, index: number, expires: number) => createHmac('sha256', key).update(`${taskId}/${index}:${expires}`).digest('base64url');
  return {
    sign: (taskId, index, expires) => `${RESULTS_PATH}/${encodeURIComponent(taskId)}/${index}?expires=${expires}&sig=${mac(taskId, index, expires)}`,
    verify(taskId, index, expires, signature, nowSeconds) {
      if (!Number.isSafeInteger(expires) || expires < nowSeconds) return false;
      const wanted = Buffer.from(mac(taskId, index, expires));
      const given = Buffer.from(signature);
      return given.length === wanted.length && timingSafeEqual(given, wanted);
    },
  };
}

/**
 * The configured key, else one kept in the directory (made on first start): every instance that
 * shares the directory shares it, and a restart does not invalidate links already given.
 */
export async function signingKeyFor(configured: string | undefined, directory: string): Promise<Buffer | string> {
  if (configured) return configured;
  const path = join(directory, '.signing-key');
  try {
    return Buffer.from((await readFile(path, 'utf8')).trim(), 'base64url');
  } catch {
    await mkdir(directory, { recursive: true });
    const key = randomBytes(32);
    // `wx`: two instances starting together keep the first one's key.
    await writeFile(path, key.toString('base64url'), { flag: 'wx', mode: 0o600 }).catch(() => undefined);
    return Buffer.from((await readFile(path, 'utf8')).trim(), 'base64url');
  }
}

/** The task id and file index of a `/results/…` path; undefined when it names no copy. */
export function parseResultsPath(rest: string): { taskId: string; index: number } | undefined {
  const parts = rest.split('/');
  if (parts.length !== 2 || !/^\d{1,4}$/.test(parts[1]!)) return undefined;
  try {
    const taskId = decodeURIComponent(parts[0]!);
    return taskId === '' ? undefined : { taskId, index: Number(parts[1]) };
  } catch {
    return undefined;
  }
}

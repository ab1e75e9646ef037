// Where result copies live: one interface, a directory (embedded) or S3-compatible storage. It
// knows keys and bytes, not tasks or tenants; the gateway decides the keys (gateway/results/).

export interface BlobMeta {
  contentType: string;
  bytes: number;
}

export interface BlobRead {
  body: NodeJS.ReadableStream;
  contentType: string;
  bytes: number;
}

export interface BlobStore {
  /** `directory` or `s3`: for logs, readiness and metrics. */
  readonly kind: 'directory' | 's3';
  /** Stores the file at `path` (a finished download) under `key`, replacing what was there. */
  putFile(key: string, path: string, meta: BlobMeta): Promise<void>;
  /** The stored bytes, or undefined when the key holds nothing. */
  get(key: string): Promise<BlobRead | undefined>;
  /** Deletes the key; deleting what is not there is not an error (two sweepers may race). */
  delete(key: string): Promise<void>;
  /**
   * A URL the store itself serves for `ttlSeconds` (S3's presigned GET). Absent for the directory:
   * the gateway serves those bytes behind a link it signs (gateway/results/links.ts).
   */
  presign?(key: string, ttlSeconds: number): Promise<string>;
  close(): Promise<void>;
}

/** A blob store failure with a code (the copy worker retries it like a failed download). */
export class BlobStoreError extends Error {
  override readonly name = 'BlobStoreError';
  constructor(
    readonly code: 'BAD_KEY' | 'WRITE_FAILED' | 'READ_FAILED',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Keys are the gateway's own (`tenant/task/0.png`); anything that could climb out of a directory is refused. */
export function checkKey(key: string): string {
  if (key === '' || key.startsWith('/') || key.split('/').some((part) => part === '' || part === '.' || part === '..') || /[\\\0]/.test(key)) {
    throw new BlobStoreError('BAD_KEY', `blob key ${JSON.stringify(key)} is not a relative path of plain names`);
  }
  return key;
}

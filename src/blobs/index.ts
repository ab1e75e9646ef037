// The blob store the config asks for: a directory (default: `results/` beside the SQLite file)
// or S3-compatible storage.
import { dirname, join, resolve } from 'node:path';
import type { Config } from '../config/index.js';
import { createDirectoryBlobStore } from './directory.js';
import { createS3BlobStore } from './s3.js';
import type { BlobStore } from './types.js';

export type { BlobMeta, BlobRead, BlobStore } from './types.js';
export { BlobStoreError } from './types.js';
export { createDirectoryBlobStore } from './directory.js';
export { createS3BlobStore } from './s3.js';

/** The directory store's root: the configured path, or `results/` beside a SQLite file (schema.ts refuses the rest). */
export function resultsDirectory(config: Config): string {
  const store = config.results.store;
  if (store.kind === 'directory' && store.path) return resolve(store.path);
  const file = config.store.replace(/^sqlite:/, '');
  return join(dirname(resolve(file)), 'results');
}

export function createBlobStore(config: Config): BlobStore {
  const store = config.results.store;
  if (store.kind === 's3') return createS3BlobStore(store);
  return createDirectoryBlobStore(resultsDirectory(config));
}

// The embedded blob store: files in a directory (by default beside the SQLite file). A file is
// written under a temporary name and renamed into place, so a reader (or a crash) never sees half
// of one; its content type is kept in a small sidecar `.meta.json`.
import { createReadStream } from 'node:fs';
import { copyFile, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import { dirname, join } from 'node:path';
import { BlobStoreError, checkKey, type BlobStore } from './types.js';

export function createDirectoryBlobStore(root: string): BlobStore {
  const pathOf = (key: string) => join(root, checkKey(key));

  return {
    kind: 'directory',

    async putFile(key, source, meta) {
      const target = pathOf(key);
      const temporary = `${target}.${randomUUID()}.tmp`;
      try {
        await mkdir(dirname(target), { recursive: true });
        // A copy, not a rename: the download may sit on another file system (the OS's tmp).
        await copyFile(source, temporary);
        await writeFile(`${target}.meta.json`, JSON.stringify({ contentType: meta.contentType, bytes: meta.bytes }));
        await rename(temporary, target);
      } catch (error) {
        await rm(temporary, { force: true });
        throw new BlobStoreError('WRITE_FAILED', `cannot write ${key}: ${(error as Error).message}`, { cause: error });
      }
    },

    async get(key) {
      const path = pathOf(key);
      try {
        const [info, meta] = await Promise.all([stat(path), readFile(`${path}.meta.json`, 'utf8')]);
        const { contentType } = JSON.parse(meta) as { contentType: string };
        return { body: createReadStream(path), contentType, bytes: info.size };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw new BlobStoreError('READ_FAILED', `cannot read ${key}: ${(error as Error).message}`, { cause: error });
      }
    },

    async delete(key) {
      const path = pathOf(key);
      await rm(path, { force: true });
      await rm(`${path}.meta.json`, { force: true });
    },

    async close() {},
  };
}

// S3-compatible storage for several instances (AWS, MinIO, R2, s3rver in the tests), through the
// AWS SDK. Credentials come from the SDK's own chain (the environment, a profile, an instance
// role), never from the gateway's config file. Links are S3's presigned GETs, so downloads do not
// pass through the gateway.
import { createReadStream } from 'node:fs';
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand, S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { BlobStoreError, checkKey, type BlobStore } from './types.js';

export interface S3BlobStoreOptions {
  bucket: string;
  endpoint?: string;
  region: string;
  forcePathStyle: boolean;
  prefix: string;
  /** Tests pass credentials for their own server; otherwise the SDK's default chain applies. */
  credentials?: S3ClientConfig['credentials'];
}

export function createS3BlobStore(options: S3BlobStoreOptions): BlobStore {
  const client = new S3Client({
    region: options.region,
    forcePathStyle: options.forcePathStyle,
    // Checksums only where S3 requires them: the SDK's default streams uploads as aws-chunked with
    // a trailing checksum, which many S3-compatible servers store verbatim (s3rver does).
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    ...(options.endpoint !== undefined && { endpoint: options.endpoint }),
    ...(options.credentials !== undefined && { credentials: options.credentials }),
  });
  const keyOf = (key: string) => `${options.prefix}${checkKey(key)}`;
  const Bucket = options.bucket;

  return {
    kind: 's3',

    async putFile(key, path, meta) {
      try {
        await client.send(
          new PutObjectCommand({ Bucket, Key: keyOf(key), Body: createReadStream(path), ContentLength: meta.bytes, ContentType: meta.contentType }),
        );
      } catch (error) {
        throw new BlobStoreError('WRITE_FAILED', `cannot write ${key} to bucket ${Bucket}: ${(error as Error).message}`, { cause: error });
      }
    },

    async get(key) {
      try {
        const answer = await client.send(new GetObjectCommand({ Bucket, Key: keyOf(key) }));
        return { body: answer.Body as NodeJS.ReadableStream, contentType: answer.ContentType ?? 'application/octet-stream', bytes: answer.ContentLength ?? 0 };
      } catch (error) {
        if ((error as { name?: string }).name === 'NoSuchKey') return undefined;
        throw new BlobStoreError('READ_FAILED', `cannot read ${key} from bucket ${Bucket}: ${(error as Error).message}`, { cause: error });
      }
    },

    async delete(key) {
      await client.send(new DeleteObjectCommand({ Bucket, Key: keyOf(key) }));
    },

    presign: (key, ttlSeconds) => getSignedUrl(client, new GetObjectCommand({ Bucket, Key: keyOf(key) }), { expiresIn: ttlSeconds }),

    async close() {
      client.destroy();
    },
  };
}

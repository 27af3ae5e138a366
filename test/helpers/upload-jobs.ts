import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { CODECS, type UploadJob } from '../../shared/contract/messages.ts';
import type { ObjectStore } from '../../shared/storage/object-store.ts';
import { publishRaw } from './runtime-harness.ts';

/** Stores `bytes` random bytes as an MP4 object; returns them for comparison. */
export async function putRandomVideo(store: Pick<ObjectStore, 'upload'>, bucket: string, key: string, bytes: number): Promise<Buffer> {
  const data = randomBytes(bytes);
  await store.upload(bucket, key, Readable.from([data]), { contentType: 'video/mp4' });
  return data;
}

/** Publishes an upload job as a producer would, to the uploader queue under `prefix`. */
export async function publishUploadJob(prefix: string, job: UploadJob): Promise<void> {
  await publishRaw(`${prefix}uploader`, [CODECS.uploader.encode(job)]);
}

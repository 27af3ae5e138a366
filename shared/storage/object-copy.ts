import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  UploadPartCopyCommand,
  type CompletedPart,
  type S3Client,
} from '@aws-sdk/client-s3';
import { TransientError } from '../errors.ts';
import { keyUrlPath } from '../contract/object-key.ts';
import { toStorageError } from './storage-errors.ts';

export interface ObjectRef {
  bucket: string;
  key: string;
}

export interface CopyOptions {
  /** The copy's user metadata (replaces the source's). @default the source's */
  metadata?: Record<string, string>;
  /** Needed with `metadata`: S3 replaces the content type along with it. */
  contentType?: string;
  /** Refuse the copy when the source's ETag is no longer this one (it was replaced meanwhile). */
  ifMatch?: string;
  /** A source larger than this is copied part by part. S3's CopyObject stops at 5 GB. @default 5 GiB */
  multipartAbove?: number;
  /** Bytes per copied part (5 MiB to 5 GiB). @default 512 MiB */
  partSize?: number;
  /** Parts copied at once. @default 4 */
  parallel?: number;
  signal?: AbortSignal;
}

const MIB = 1024 ** 2;

/**
 * A server-side copy: the bytes stay in the store and never pass through this process.
 * Up to `multipartAbove`, one CopyObject; above it, a multipart upload whose parts are
 * UploadPartCopy ranges of the source, aborted on failure so no parts are left behind.
 * `size` is the source's, from a HEAD the caller made.
 */
export async function copyWithinStore(client: S3Client, from: ObjectRef, to: ObjectRef, size: number, opts: CopyOptions = {}): Promise<{ etag: string | undefined }> {
  const { signal } = opts;
  const source = `${from.bucket}/${keyUrlPath(from.key)}`;
  const replace = opts.metadata !== undefined;
  const head = {
    ...(replace && { Metadata: opts.metadata }),
    ...(opts.contentType !== undefined && { ContentType: opts.contentType }),
  };
  if (size <= (opts.multipartAbove ?? 5 * 1024 ** 3)) {
    try {
      const res = await client.send(
        new CopyObjectCommand({
          Bucket: to.bucket, Key: to.key, CopySource: source, MetadataDirective: replace ? 'REPLACE' : 'COPY',
          ...(opts.ifMatch !== undefined && { CopySourceIfMatch: opts.ifMatch }), ...head,
        }),
        { abortSignal: signal },
      );
      return { etag: res.CopyObjectResult?.ETag };
    } catch (err) {
      throw toStorageError(err, { op: 'copy', bucket: to.bucket }, signal);
    }
  }
  const partSize = opts.partSize ?? 512 * MIB;
  if (!Number.isInteger(partSize) || partSize < 5 * MIB) throw new RangeError('partSize must be an integer of at least 5 MiB');
  let uploadId: string | undefined;
  try {
    const created = await client.send(new CreateMultipartUploadCommand({ Bucket: to.bucket, Key: to.key, ...(replace ? head : {}) }), { abortSignal: signal });
    uploadId = created.UploadId;
    if (!uploadId) throw new TransientError('STORAGE_UNAVAILABLE', `copy in bucket ${to.bucket}: no upload id in the answer`);
    const count = Math.ceil(size / partSize);
    const parts: CompletedPart[] = new Array(count);
    let next = 0;
    const worker = async () => {
      for (let i = next++; i < count; i = next++) {
        signal?.throwIfAborted();
        const start = i * partSize;
        const end = Math.min(size, start + partSize) - 1;
        const res = await client.send(
          new UploadPartCopyCommand({
            Bucket: to.bucket, Key: to.key, UploadId: uploadId, PartNumber: i + 1, CopySource: source,
            CopySourceRange: `bytes=${start}-${end}`, ...(opts.ifMatch !== undefined && { CopySourceIfMatch: opts.ifMatch }),
          }),
          { abortSignal: signal },
        );
        parts[i] = { PartNumber: i + 1, ETag: res.CopyPartResult?.ETag };
      }
    };
    await Promise.all(Array.from({ length: Math.min(opts.parallel ?? 4, count) }, worker));
    const done = await client.send(
      new CompleteMultipartUploadCommand({ Bucket: to.bucket, Key: to.key, UploadId: uploadId, MultipartUpload: { Parts: parts } }),
      { abortSignal: signal },
    );
    return { etag: done.ETag };
  } catch (err) {
    if (uploadId !== undefined) {
      await client.send(new AbortMultipartUploadCommand({ Bucket: to.bucket, Key: to.key, UploadId: uploadId })).catch(() => undefined);
    }
    throw toStorageError(err, { op: 'copy', bucket: to.bucket }, signal);
  }
}

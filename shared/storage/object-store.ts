import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { readFile, rename, rm, stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type BucketLocationConstraint,
  type CreateBucketCommandInput,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { PermanentError, TransientError } from '../errors.ts';
import { checkBucketName, checkKeyPrefix, checkObjectKey } from '../contract/object-key.ts';
import { createS3Client, type S3ClientOptions } from './s3-client.ts';
import { toStorageError } from './storage-errors.ts';
import { copyWithinStore, type CopyOptions, type ObjectRef } from './object-copy.ts';
import type { ObjectInfo, ListedObject, DownloadOptions, ReadOptions, UploadOptions, ListOptions, ObjectStore, S3ObjectStoreOptions, ObjectStoreConfig } from './object-store-types.ts';

export type { CopyOptions, ObjectRef } from './object-copy.ts';
export type { ObjectInfo, ListedObject, DownloadOptions, ReadOptions, UploadOptions, ListOptions, ObjectStore, S3ObjectStoreOptions, ObjectStoreConfig } from './object-store-types.ts';

/** The store for the configured S3, with a client of its own. */
export function createObjectStore(config: ObjectStoreConfig, clientOptions: S3ClientOptions = {}, storeOptions: S3ObjectStoreOptions = {}): S3ObjectStore {
  return new S3ObjectStore(createS3Client(config, clientOptions), {
    createBuckets: config.createBuckets,
    region: config.region,
    ...storeOptions,
  });
}

const MIB = 1024 * 1024;
const MIN_PART_SIZE = 5 * MIB;
const MAX_PARTS = 10_000;
/** Files up to this size go up in one PutObject from memory. */
const SMALL_FILE_BYTES = MIB;

export class S3ObjectStore implements ObjectStore {
  private readonly buckets = new Map<string, Promise<void>>();
  private readonly createBuckets: boolean;
  private readonly creatable: ReadonlySet<string> | undefined;
  private readonly region: string;
  private readonly partSize: number;
  private readonly queueSize: number;

  private readonly client: S3Client;

  constructor(
    client: S3Client,
    opts: S3ObjectStoreOptions = {},
  ) {
    this.client = client;
    this.createBuckets = opts.createBuckets ?? true;
    this.creatable = opts.creatableBuckets && new Set(opts.creatableBuckets);
    this.region = opts.region ?? 'us-east-1';
    this.partSize = checkPartSize(opts.partSize ?? 8 * MIB);
    this.queueSize = checkQueueSize(opts.queueSize ?? 4);
  }

  async ensureBucket(bucket: string): Promise<void> {
    checkBucketName(bucket);
    let known = this.buckets.get(bucket);
    if (known === undefined) {
      // Concurrent jobs asking for the same bucket share one check; a failure is not kept.
      known = this.checkOrCreateBucket(bucket);
      this.buckets.set(bucket, known);
      known.catch(() => this.buckets.delete(bucket));
    }
    return known;
  }

  private async checkOrCreateBucket(bucket: string): Promise<void> {
    if (await this.bucketExists(bucket)) return;
    if (!this.createBuckets) {
      throw new PermanentError('BUCKET_NOT_FOUND', `bucket ${bucket} does not exist and creating buckets is disabled`);
    }
    if (this.creatable && !this.creatable.has(bucket)) {
      throw new PermanentError('BUCKET_NOT_FOUND', `bucket ${bucket} does not exist, and Vigil creates only the buckets it is configured with`);
    }
    const input: CreateBucketCommandInput = { Bucket: bucket };
    // us-east-1 is the one region that must not be named.
    if (this.region !== 'us-east-1') input.CreateBucketConfiguration = { LocationConstraint: this.region as BucketLocationConstraint };
    try {
      await this.client.send(new CreateBucketCommand(input));
    } catch (err) {
      // Another process created it in between (S3 and MinIO say OwnedByYou, s3rver says
      // AlreadyExists): fine if it is now there for us; someone else's bucket is not.
      const name = (err as { name?: unknown } | null)?.name;
      if (name === 'BucketAlreadyOwnedByYou') return;
      if (name === 'BucketAlreadyExists' && (await this.bucketExists(bucket))) return;
      throw toStorageError(err, { op: 'ensureBucket', bucket });
    }
  }

  async download(bucket: string, key: string, filePath: string, opts: DownloadOptions = {}): Promise<{ size: number; etag: string | undefined }> {
    const { signal } = opts;
    // Written aside and renamed when complete: a reader never sees a partial file at
    // `filePath`, and a crash leaves only a `.part` in the job's work directory.
    const partPath = `${filePath}.part`;
    checkObjectKey(key);
    checkBucketName(bucket);
    let out: WriteStream | undefined;
    try {
      signal?.throwIfAborted();
      const res = await this.client.send(new GetObjectCommand({ Bucket: bucket, Key: key }), { abortSignal: signal });
      const body = res.Body as Readable | undefined;
      if (body === undefined) throw new TransientError('STORAGE_UNAVAILABLE', `download in bucket ${bucket}: the response had no body`);
      out = createWriteStream(partPath);
      await pipeline(body, out, { signal });
      const { size } = await stat(partPath);
      // A connection cut cleanly between two chunks can look like the end of the body.
      if (res.ContentLength !== undefined && size !== res.ContentLength) {
        throw new TransientError('STORAGE_UNAVAILABLE', `download in bucket ${bucket}: got ${size} of ${res.ContentLength} bytes`);
      }
      await rename(partPath, filePath);
      return { size, etag: res.ETag };
    } catch (err) {
      // An abort rejects the pipeline before the write stream has opened its file; the
      // open still completes later, so wait for the stream to close before removing it.
      if (out !== undefined && !out.closed) {
        out.destroy();
        await once(out, 'close').catch(() => undefined);
      }
      await rm(partPath, { force: true }).catch(() => undefined);
      throw toStorageError(err, { op: 'download', bucket }, signal);
    }
  }

  async upload(bucket: string, key: string, source: string | Readable, opts: UploadOptions = {}): Promise<{ etag: string | undefined }> {
    const { signal } = opts;
    try {
      checkBucketName(bucket);
      checkObjectKey(key);
    } catch (err) {
      if (typeof source !== 'string') source.destroy();
      throw err;
    }
    let partSize = checkPartSize(opts.partSize ?? this.partSize);
    let contentLength: number | undefined;
    try {
      signal?.throwIfAborted();
      if (typeof source === 'string') contentLength = (await stat(source)).size;
    } catch (err) {
      if (typeof source !== 'string') source.destroy();
      throw toStorageError(err, { op: 'upload', bucket }, signal);
    }
    if (typeof source === 'string' && contentLength! <= SMALL_FILE_BYTES) return this.putSmallFile(bucket, key, source, opts);
    if (contentLength !== undefined) partSize = Math.max(partSize, Math.ceil(contentLength / MAX_PARTS));
    const body = typeof source === 'string' ? createReadStream(source) : source;
    const abortController = new AbortController();
    const onAbort = () => abortController.abort(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    const upload = new Upload({
      client: this.client,
      params: {
        Bucket: bucket,
        Key: key,
        Body: body,
        ...(contentLength !== undefined && { ContentLength: contentLength }),
        ...(opts.contentType !== undefined && { ContentType: opts.contentType }),
        ...(opts.metadata !== undefined && { Metadata: opts.metadata }),
      },
      partSize,
      queueSize: checkQueueSize(opts.queueSize ?? this.queueSize),
      // Failed multipart uploads are aborted, so no orphaned parts accrue storage.
      leavePartsOnError: false,
      abortController,
    });
    try {
      const res = await upload.done();
      return { etag: res.ETag };
    } catch (err) {
      // An aborted Upload returns at once but leaves its source open, and its part loop
      // waiting on it; destroying the source ends that loop, which then aborts the
      // multipart upload on the store.
      body.destroy();
      throw toStorageError(err, { op: 'upload', bucket }, signal);
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  /**
   * A file of at most one MiB goes up as one PutObject from memory. lib-storage's part
   * machinery costs about a third more CPU per object, which adds up over the transcoder's
   * hundreds of frame JPEGs a job, all uploaded while ffmpeg wants both cores.
   */
  private async putSmallFile(bucket: string, key: string, path: string, opts: UploadOptions): Promise<{ etag: string | undefined }> {
    let body: Buffer;
    try {
      body = await readFile(path, { signal: opts.signal });
    } catch (err) {
      throw toStorageError(err, { op: 'upload', bucket }, opts.signal);
    }
    return this.put(bucket, key, body, opts);
  }

  async put(bucket: string, key: string, body: Uint8Array, opts: Pick<UploadOptions, 'contentType' | 'metadata' | 'signal'> = {}): Promise<{ etag: string | undefined }> {
    const { signal } = opts;
    if (body.length > SMALL_FILE_BYTES) throw new RangeError(`put is for objects of at most ${SMALL_FILE_BYTES} bytes (got ${body.length}); use upload`);
    try {
      checkBucketName(bucket);
      checkObjectKey(key);
      const res = await this.client.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: key,
          Body: body,
          ContentLength: body.length,
          ...(opts.contentType !== undefined && { ContentType: opts.contentType }),
          ...(opts.metadata !== undefined && { Metadata: opts.metadata }),
        }),
        { abortSignal: signal },
      );
      return { etag: res.ETag };
    } catch (err) {
      throw toStorageError(err, { op: 'upload', bucket }, signal);
    }
  }

  async readRange(bucket: string, key: string, start: number, end: number, opts: ReadOptions = {}): Promise<Buffer> {
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end <= start) {
      throw new RangeError(`readRange needs 0 <= start < end (got ${start}, ${end})`);
    }
    const { body } = await this.openRead(bucket, key, { ...opts, range: `bytes=${start}-${end - 1}` });
    const chunks: Buffer[] = [];
    let size = 0;
    try {
      for await (const chunk of body) {
        chunks.push(chunk as Buffer);
        size += (chunk as Buffer).length;
        // A store sending more than the range asked for is not read on (nor held).
        if (size > end - start) break;
      }
    } catch (err) {
      throw toStorageError(err, { op: 'read', bucket }, opts.signal);
    }
    if (size !== end - start) throw new TransientError('STORAGE_UNAVAILABLE', `read in bucket ${bucket}: got ${size} of ${end - start} bytes`);
    return Buffer.concat(chunks, size);
  }

  async openRead(bucket: string, key: string, opts: ReadOptions = {}) {
    checkBucketName(bucket);
    checkObjectKey(key);
    try {
      opts.signal?.throwIfAborted();
      const res = await this.client.send(
        new GetObjectCommand({ Bucket: bucket, Key: key, Range: opts.range, IfMatch: opts.ifMatch }),
        { abortSignal: opts.signal },
      );
      const body = res.Body as Readable | undefined;
      if (body === undefined) throw new TransientError('STORAGE_UNAVAILABLE', `read in bucket ${bucket}: the response had no body`);
      return { body, size: res.ContentLength ?? 0, etag: res.ETag, contentType: res.ContentType };
    } catch (err) {
      throw toStorageError(err, { op: 'read', bucket }, opts.signal);
    }
  }

  async copy(from: ObjectRef, to: ObjectRef, size: number, opts: CopyOptions = {}): Promise<{ etag: string | undefined }> {
    for (const o of [from, to]) {
      checkBucketName(o.bucket);
      checkObjectKey(o.key);
    }
    return copyWithinStore(this.client, from, to, size, opts);
  }

  /** Closes the client's connections: the store owns the client it was given. */
  close(): void {
    this.client.destroy();
  }

  async head(bucket: string, key: string): Promise<ObjectInfo | null> {
    checkBucketName(bucket);
    checkObjectKey(key);
    try {
      const res = await this.client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      return {
        size: res.ContentLength ?? 0,
        etag: res.ETag,
        contentType: res.ContentType,
        lastModified: res.LastModified,
        metadata: res.Metadata ?? {},
      };
    } catch (err) {
      // HEAD has no body, so S3 cannot say whether the key or the bucket is missing.
      if (isNotFound(err)) return null;
      throw toStorageError(err, { op: 'head', bucket });
    }
  }

  async exists(bucket: string, key: string): Promise<boolean> {
    return (await this.head(bucket, key)) !== null;
  }

  async delete(bucket: string, key: string): Promise<void> {
    checkBucketName(bucket);
    checkObjectKey(key);
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    } catch (err) {
      throw toStorageError(err, { op: 'delete', bucket });
    }
  }

  async *list(bucket: string, prefix = '', opts: ListOptions = {}): AsyncIterable<ListedObject[]> {
    checkBucketName(bucket);
    checkKeyPrefix(prefix);
    const pageSize = opts.pageSize ?? 1000;
    let token: string | undefined;
    do {
      let page;
      try {
        opts.signal?.throwIfAborted();
        page = await this.client.send(
          new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix === '' ? undefined : prefix, MaxKeys: pageSize, ContinuationToken: token }),
          { abortSignal: opts.signal },
        );
      } catch (err) {
        throw toStorageError(err, { op: 'list', bucket }, opts.signal);
      }
      const objects = (page.Contents ?? []).flatMap((o) =>
        o.Key === undefined ? [] : [{ key: o.Key, size: o.Size ?? 0, etag: o.ETag, lastModified: o.LastModified }],
      );
      if (objects.length > 0) yield objects;
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
  }

  async bucketExists(bucket: string): Promise<boolean> {
    checkBucketName(bucket);
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: bucket }));
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw toStorageError(err, { op: 'ensureBucket', bucket });
    }
  }
}

function isNotFound(err: unknown): boolean {
  const e = err as { name?: unknown; $metadata?: { httpStatusCode?: number } } | null;
  return e?.$metadata?.httpStatusCode === 404 || e?.name === 'NotFound' || e?.name === 'NoSuchKey' || e?.name === 'NoSuchBucket';
}

function checkPartSize(n: number): number {
  if (!Number.isInteger(n) || n < MIN_PART_SIZE) throw new RangeError(`partSize must be an integer of at least ${MIN_PART_SIZE} bytes`);
  return n;
}

function checkQueueSize(n: number): number {
  if (!Number.isInteger(n) || n < 1 || n > 64) throw new RangeError('queueSize must be an integer from 1 to 64');
  return n;
}

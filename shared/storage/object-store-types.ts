// What the object store offers and takes: the interface services depend on and its options;
// `object-store.ts` implements it on S3.
import type { Readable } from 'node:stream';
import type { CopyOptions, ObjectRef } from './object-copy.ts';
import type { S3Connection } from './s3-client.ts';

export interface ObjectInfo {
  size: number;
  etag: string | undefined;
  contentType: string | undefined;
  lastModified: Date | undefined;
  /** User metadata (`x-amz-meta-*`), names in lower case. */
  metadata: Record<string, string>;
}

export interface ListedObject {
  key: string;
  size: number;
  etag: string | undefined;
  lastModified: Date | undefined;
}

export interface DownloadOptions {
  signal?: AbortSignal;
}

export interface ReadOptions {
  /** Refuse an object whose ETag is no longer this one (replaced since it was first read). */
  ifMatch?: string;
  /** An HTTP byte range of the object, e.g. `bytes=1048576-` (`openRead` only). @default the whole object */
  range?: string;
  signal?: AbortSignal;
}

export interface UploadOptions {
  /** @default the store's (S3: `binary/octet-stream`) */
  contentType?: string;
  /** User metadata, stored as `x-amz-meta-*`. @default {} */
  metadata?: Record<string, string>;
  signal?: AbortSignal;
  /**
   * Bytes per part; a body larger than one part goes up as a multipart upload. S3's
   * minimum is 5 MiB; raised for files so that they fit S3's 10,000 parts.
   * @default 8 MiB
   */
  partSize?: number;
  /** Parts in flight at once. Memory held is about `queueSize × partSize`. @default 4 */
  queueSize?: number;
}

export interface ListOptions {
  /** Keys per page (S3 caps it at 1000). @default 1000 */
  pageSize?: number;
  signal?: AbortSignal;
}

/**
 * The storage the services need, and no more: a narrow interface in front of the SDK so
 * that a job's logic can be tested against a fake, and the driver swapped.
 *
 * Every bucket name and key is checked before a request is made (`checkBucketName`,
 * `checkObjectKey`): some S3 servers normalise `..` in paths, so an unchecked key could
 * reach another object or bucket.
 *
 * Errors are VigilErrors: `PermanentError` with `BAD_BUCKET_NAME`, `BAD_OBJECT_KEY`,
 * `OBJECT_NOT_FOUND`, `BUCKET_NOT_FOUND`, `STORAGE_ACCESS_DENIED` or `STORAGE_REJECTED`; `TransientError` with
 * `STORAGE_UNAVAILABLE` (network, 5xx, throttling), `STORAGE_ABORTED` (the signal) or
 * `LOCAL_IO`.
 */
export interface ObjectStore {
  /** Makes sure the bucket exists, creating it when allowed; remembered per store. */
  ensureBucket(bucket: string): Promise<void>;
  /** Whether the bucket exists now (nothing is created or remembered). */
  bucketExists(bucket: string): Promise<boolean>;
  /** Streams the object to `filePath`; nothing is left at `filePath` when it fails. */
  download(bucket: string, key: string, filePath: string, opts?: DownloadOptions): Promise<{ size: number; etag: string | undefined }>;
  /** Bytes `[start, end)` of the object, in memory: one chunk of a chunked transfer. */
  readRange(bucket: string, key: string, start: number, end: number, opts?: ReadOptions): Promise<Buffer>;
  /** The object as a stream, never held whole, with its size, ETag and content type. */
  openRead(bucket: string, key: string, opts?: ReadOptions): Promise<{ body: Readable; size: number; etag: string | undefined; contentType: string | undefined }>;
  /**
   * Copies an object of `size` bytes within this store, server-side (CopyObject, or
   * UploadPartCopy parts above `multipartAbove`): no byte passes through this process.
   */
  copy(from: ObjectRef, to: ObjectRef, size: number, opts?: CopyOptions): Promise<{ etag: string | undefined }>;
  /**
   * Uploads a file (by path) or a stream; multipart when larger than one part. A stream
   * is consumed, and destroyed when the upload fails.
   */
  upload(bucket: string, key: string, source: string | Readable, opts?: UploadOptions): Promise<{ etag: string | undefined }>;
  /** One PutObject of a body already in memory (a frame JPEG): for small objects only. */
  put(bucket: string, key: string, body: Uint8Array, opts?: Pick<UploadOptions, 'contentType' | 'metadata' | 'signal'>): Promise<{ etag: string | undefined }>;
  /** The object's size and metadata, or null when there is no such object. */
  head(bucket: string, key: string): Promise<ObjectInfo | null>;
  exists(bucket: string, key: string): Promise<boolean>;
  /** Deletes the object; deleting a missing object succeeds. */
  delete(bucket: string, key: string): Promise<void>;
  /** The objects under `prefix`, one page (array) at a time, in key order. */
  list(bucket: string, prefix?: string, opts?: ListOptions): AsyncIterable<ListedObject[]>;
}

export interface S3ObjectStoreOptions {
  /** Create a missing bucket in `ensureBucket` instead of failing. @default true */
  createBuckets?: boolean;
  /**
   * The only buckets `ensureBucket` may create: the configured ones. A job naming any
   * other bucket that does not exist fails instead of making one. @default any
   */
  creatableBuckets?: readonly string[];
  /** Region named when creating a bucket outside us-east-1. @default 'us-east-1' */
  region?: string;
  /** @default 8 MiB */
  partSize?: number;
  /** @default 4 */
  queueSize?: number;
}

/** The configured store: where it is, and whether a missing bucket may be created. */
export interface ObjectStoreConfig extends S3Connection {
  /** `S3_CREATE_BUCKETS`. @default true */
  createBuckets: boolean;
}

import type { ObjectStoreConfig } from '../../shared/storage/object-store.ts';
import { isBucketName } from '../../shared/contract/object-key.ts';
import type { EnvReader } from '../../shared/config/env-reader.ts';

export type UploadTargetName = 'library' | 'facebook';
const TARGETS: readonly UploadTargetName[] = ['library', 'facebook'];

/** Where the Graph API is and which Page videos go to (`FACEBOOK_*`). */
export interface FacebookConfig {
  /** `FACEBOOK_GRAPH_URL`: tests and proxies point it elsewhere. @default 'https://graph-video.facebook.com' */
  baseUrl: string;
  /** `FACEBOOK_API_VERSION`. @default 'v24.0' */
  apiVersion: string;
  /** `FACEBOOK_PAGE_ID`. */
  pageId: string;
  /** `FACEBOOK_PAGE_TOKEN` (or `_FILE`): a Page access token; a secret, never logged. */
  accessToken: string;
  /** `FACEBOOK_REQUEST_TIMEOUT`: longest wait for one Graph call, a chunk included. @default 2 min */
  requestTimeoutMs: number;
  /** `FACEBOOK_CHUNK_RETRIES`: a chunk cut off by the network is sent again this many times before the attempt fails (and is retried by the queue, resuming). @default 5 */
  chunkRetries: number;
  /** `FACEBOOK_CHUNK_RETRY_DELAY`: wait before the first of them, doubled each time. @default 1s */
  retryDelayMs: number;
}

export interface LibraryConfig {
  /**
   * `LIBRARY_S3_ENDPOINT`, `LIBRARY_S3_REGION`, `LIBRARY_S3_ACCESS_KEY_ID`,
   * `LIBRARY_S3_SECRET_ACCESS_KEY`: the library's own store, when it is not the videos'
   * one (then the copy is streamed, not server-side). @default undefined (the same store)
   */
  store: ObjectStoreConfig | undefined;
  /**
   * `LIBRARY_PUBLIC_URL`: the base of the links mailed to speakers (`<base>/<key>`).
   * @default undefined (the store's path-style URL of the object)
   */
  publicUrl: string | undefined;
  /**
   * `LIBRARY_MULTIPART_COPY_ABOVE`: a larger object is copied part by part
   * (UploadPartCopy); S3's CopyObject stops at 5 GB. @default 5 GiB
   */
  multipartCopyAboveBytes: number;
  /** `LIBRARY_COPY_PART_SIZE`: bytes per copied part, 5 MiB to 5 GiB. @default 512 MiB */
  copyPartBytes: number;
}

export interface UploaderConfig {
  /** `UPLOADER_DEFAULT_TARGETS`: the targets of a job that names none. @default ['library'] */
  defaultTargets: UploadTargetName[];
  /**
   * `UPLOADER_SOURCE_BUCKETS`: buckets a job may publish from besides `BUCKET_VIDEO`; a job
   * naming another fails, so a producer cannot publish frames or camera videos. @default []
   */
  extraSourceBuckets: string[];
  /** Undefined unless both `FACEBOOK_PAGE_ID` and `FACEBOOK_PAGE_TOKEN` are set; a facebook target then fails for good. */
  facebook: FacebookConfig | undefined;
  /** `FACEBOOK_RATE_LIMIT_WAIT`: how long a throttled upload waits when the API names no time. @default 6h (the seed's) */
  rateLimitWaitMs: number;
  /** `FACEBOOK_MAX_POSTPONES`: throttled this many times, the upload fails for good. @default 8 */
  maxPostpones: number;
  /** `UPLOADER_SWEEP_INTERVAL`: how often postponed uploads that are due are queued again. @default 60s */
  sweepIntervalMs: number;
  library: LibraryConfig;
}

const GIB = 1024 ** 3;
const MIB = 1024 ** 2;

export function readUploaderConfig(r: EnvReader): UploaderConfig {
  return {
    defaultTargets: targetList(r, 'UPLOADER_DEFAULT_TARGETS', ['library']),
    extraSourceBuckets: bucketList(r, 'UPLOADER_SOURCE_BUCKETS'),
    facebook: readFacebookConfig(r),
    rateLimitWaitMs: r.duration('FACEBOOK_RATE_LIMIT_WAIT', 6 * 3_600_000, 1_000, 7 * 24 * 3_600_000),
    maxPostpones: r.int('FACEBOOK_MAX_POSTPONES', 8, 0, 1000),
    sweepIntervalMs: r.duration('UPLOADER_SWEEP_INTERVAL', 60_000, 100, 3_600_000),
    library: readLibraryConfig(r),
  };
}

function readFacebookConfig(r: EnvReader): FacebookConfig | undefined {
  const baseUrl = r.url('FACEBOOK_GRAPH_URL', 'https://graph-video.facebook.com', ['http', 'https'])!.replace(/\/+$/, '');
  const apiVersion = r.matching('FACEBOOK_API_VERSION', 'v24.0', (v) => /^v\d+\.\d+$/.test(v), 'a Graph API version like v24.0');
  const pageId = r.matching('FACEBOOK_PAGE_ID', '', (v) => v === '' || /^\d{1,30}$/.test(v), 'a numeric Page id');
  const accessToken = r.optionalString('FACEBOOK_PAGE_TOKEN', { secret: true });
  const requestTimeoutMs = r.duration('FACEBOOK_REQUEST_TIMEOUT', 120_000, 1_000, 3_600_000);
  const chunkRetries = r.int('FACEBOOK_CHUNK_RETRIES', 5, 0, 100);
  const retryDelayMs = r.duration('FACEBOOK_CHUNK_RETRY_DELAY', 1_000, 0, 600_000);
  if ((pageId === '') !== (accessToken === undefined)) {
    r.problems.push({ variable: pageId === '' ? 'FACEBOOK_PAGE_ID' : 'FACEBOOK_PAGE_TOKEN', expected: 'set together with FACEBOOK_PAGE_ID and FACEBOOK_PAGE_TOKEN' });
  }
  if (pageId === '' || accessToken === undefined) return undefined;
  return { baseUrl, apiVersion, pageId, accessToken, requestTimeoutMs, chunkRetries, retryDelayMs };
}

function readLibraryConfig(r: EnvReader): LibraryConfig {
  const endpoint = r.url('LIBRARY_S3_ENDPOINT', undefined, ['http', 'https']);
  const accessKeyId = r.optionalString('LIBRARY_S3_ACCESS_KEY_ID', { secret: true });
  const secretAccessKey = r.optionalString('LIBRARY_S3_SECRET_ACCESS_KEY', { secret: true });
  const region = r.optionalString('LIBRARY_S3_REGION');
  if ((accessKeyId === undefined) !== (secretAccessKey === undefined)) {
    r.problems.push({ variable: 'LIBRARY_S3_SECRET_ACCESS_KEY', expected: 'set together with LIBRARY_S3_ACCESS_KEY_ID' });
  }
  const own = endpoint !== undefined || accessKeyId !== undefined || region !== undefined;
  const copyPartBytes = r.byteSize('LIBRARY_COPY_PART_SIZE', 512 * MIB);
  if (copyPartBytes < 5 * MIB || copyPartBytes > 5 * GIB) {
    r.problems.push({ variable: 'LIBRARY_COPY_PART_SIZE', expected: 'a size from 5MiB to 5GiB', got: String(copyPartBytes) });
  }
  return {
    store: own ? { endpoint, region: region ?? 'us-east-1', accessKeyId, secretAccessKey, createBuckets: r.bool('LIBRARY_S3_CREATE_BUCKETS', true) } : undefined,
    publicUrl: r.url('LIBRARY_PUBLIC_URL', undefined, ['http', 'https'])?.replace(/\/+$/, ''),
    multipartCopyAboveBytes: r.byteSize('LIBRARY_MULTIPART_COPY_ABOVE', 5 * GIB),
    copyPartBytes,
  };
}

function targetList(r: EnvReader, name: string, fallback: UploadTargetName[]): UploadTargetName[] {
  const v = r.optionalString(name);
  if (v === undefined) return fallback;
  const names = [...new Set(v.split(',').map((s) => s.trim()).filter(Boolean))];
  if (names.length === 0 || names.some((n) => !(TARGETS as readonly string[]).includes(n))) {
    r.problems.push({ variable: name, expected: `comma-separated targets (${TARGETS.join(', ')})`, got: v });
    return fallback;
  }
  return names as UploadTargetName[];
}

function bucketList(r: EnvReader, name: string): string[] {
  const v = r.optionalString(name);
  if (v === undefined) return [];
  const names = [...new Set(v.split(',').map((x) => x.trim()).filter(Boolean))];
  if (names.some((n) => !isBucketName(n))) {
    r.problems.push({ variable: name, expected: 'comma-separated S3 bucket names', got: v });
    return [];
  }
  return names;
}

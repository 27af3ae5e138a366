import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { UploadResult } from '../../db/repositories/uploader.repository.ts';
import { PermanentError, errorMessage } from '../../shared/errors.ts';
import type { UploadJob } from '../../shared/contract/messages.ts';
import { checkObjectKey, keyUrlPath } from '../../shared/contract/object-key.ts';
import type { ObjectInfo, ObjectStore } from '../../shared/storage/object-store.ts';

export interface LibraryTarget {
  /** Where the job's source is. */
  source: Pick<ObjectStore, 'head' | 'copy' | 'openRead'>;
  /** The library's store. */
  library: Pick<ObjectStore, 'ensureBucket' | 'head' | 'upload'>;
  /** The library bucket is in the source's store: the copy is server-side. */
  sameStore: boolean;
  bucket: string;
  /** The link mailed to the speakers for a key of the library bucket. */
  urlOf(key: string): string;
  multipartCopyAboveBytes: number;
  copyPartBytes: number;
}

/** The user metadata that says which version of the source a library object is a copy of. */
export const SOURCE_ETAG_META = 'vigil-source-etag';
/**
 * The user metadata that says which source a library object (or sidecar) was written for:
 * the SHA-256 of `<bucket>/<key>` (a key of 1 KB would not fit S3's 2 KB of metadata).
 * An object at a library key without it, or with another, was not written by Vigil for
 * this source and is never replaced.
 */
export const SOURCE_META = 'vigil-source';
/** S3 keeps at most 2 KB of user metadata per object: the description and the rest go in the sidecar. */
const META_TITLE_BYTES = 1024;
const META_SPEAKERS_BYTES = 512;

/**
 * Where a source's copy goes in the library: `<source bucket>/<source key>`, and its
 * sidecar `<that>.json`. With the bucket in the key, talks of the same name in two source
 * buckets never share a key. (Copies made before this rule sit at the bare source key;
 * they and the links mailed to them stay as they are.)
 */
export function libraryKeysOf(source: { bucket: string; key: string }): { video: string; sidecar: string } {
  const video = `${source.bucket}/${source.key}`;
  return { video, sidecar: `${video}.json` };
}

/**
 * Why the library cannot take this job, known before anything is written: every key it
 * would write must be one the store accepts (a source key near S3's 1,024 bytes leaves
 * no room for the bucket and `.json`). Undefined when it can.
 */
export function libraryKeyRefusal(job: Pick<UploadJob, 'source'>): PermanentError | undefined {
  try {
    checkObjectKey(job.source.key);
  } catch (err) {
    return err as PermanentError;
  }
  const keys = libraryKeysOf(job.source);
  for (const key of [keys.video, keys.sidecar]) {
    try {
      checkObjectKey(key);
    } catch (err) {
      return new PermanentError('LIBRARY_KEY_TOO_LONG', `the library keeps a talk as <source bucket>/<source key> with a .json beside it, and for this source that key is refused: ${errorMessage(err)}; nothing was written`, err);
    }
  }
  return undefined;
}

/**
 * The talk into the video-library bucket under `<source bucket>/<source key>`, with a
 * `.json` beside it (title, description, speaker names). Every key is checked, and each
 * object already at one is checked to be this source's, before anything is written: an
 * object Vigil did not write for this source is never replaced (S3 has no conditional
 * copy, so this is a HEAD before the write; the per-source lock covers Vigil's own
 * writers). Within one store the copy is server-side (no byte passes through here); to
 * another store it is streamed, never held whole and never written to disk. A copy
 * already there from the same source version (a crash after the copy but before the
 * record) is kept, not made again.
 */
export async function uploadToLibrary(t: LibraryTarget, job: UploadJob, signal: AbortSignal): Promise<UploadResult> {
  const refused = libraryKeyRefusal(job);
  if (refused) throw refused;
  const { bucket: srcBucket, key } = job.source;
  const keys = libraryKeysOf(job.source);
  const src = await t.source.head(srcBucket, key);
  if (src === null) throw new PermanentError('OBJECT_NOT_FOUND', `the source object is not in bucket ${srcBucket}`);
  const etag = bareEtag(src.etag);
  await t.library.ensureBucket(t.bucket);
  const tag = sourceTag(job.source);
  const [video, sidecarThere] = await Promise.all([t.library.head(t.bucket, keys.video), t.library.head(t.bucket, keys.sidecar)]);
  for (const [there, what] of [[video, 'the library key'], [sidecarThere, 'the sidecar key']] as const) {
    if (there !== null && there.metadata[SOURCE_META] !== tag) {
      throw new PermanentError('LIBRARY_KEY_TAKEN', `the object at ${what} of this source (bucket ${t.bucket}) was not written by Vigil for this source; it is left as it is and nothing was written`);
    }
  }
  if (!alreadyCopied(video, src)) {
    const metadata = libraryMetadata(job, etag);
    if (t.sameStore) {
      await t.source.copy({ bucket: srcBucket, key }, { bucket: t.bucket, key: keys.video }, src.size, {
        metadata, contentType: src.contentType, ifMatch: src.etag, multipartAbove: t.multipartCopyAboveBytes, partSize: t.copyPartBytes, signal,
      });
    } else {
      const { body } = await t.source.openRead(srcBucket, key, { ifMatch: src.etag, signal });
      await t.library.upload(t.bucket, keys.video, body, { metadata, contentType: src.contentType, signal });
    }
  }
  const sidecar = Buffer.from(JSON.stringify(sidecarOf(job, etag), null, 2));
  await t.library.upload(t.bucket, keys.sidecar, Readable.from([sidecar]), { contentType: 'application/json', metadata: { [SOURCE_META]: tag }, signal });
  return { remoteId: `${t.bucket}/${keys.video}`, url: t.urlOf(keys.video), sourceEtag: src.etag, sourceBytes: src.size };
}

function alreadyCopied(there: ObjectInfo | null, src: ObjectInfo): boolean {
  return there !== null && there.size === src.size && src.etag !== undefined && there.metadata[SOURCE_ETAG_META] === bareEtag(src.etag);
}

/** The value of SOURCE_META for a source. */
export function sourceTag(source: { bucket: string; key: string }): string {
  return createHash('sha256').update(`${source.bucket}/${source.key}`).digest('hex');
}

/** S3 metadata travels in HTTP headers: ASCII only, so the text is percent-encoded. */
export function libraryMetadata(job: UploadJob, sourceEtag: string): Record<string, string> {
  return {
    [SOURCE_ETAG_META]: sourceEtag,
    [SOURCE_META]: sourceTag(job.source),
    'vigil-title': encodeCapped(job.title, META_TITLE_BYTES),
    ...(job.speakers?.length && { 'vigil-speakers': encodeCapped(job.speakers.map((s) => s.name).join(', '), META_SPEAKERS_BYTES) }),
  };
}

/** The sidecar JSON. Speakers by name only: the library may be public, their addresses are not. */
export function sidecarOf(job: UploadJob, sourceEtag: string) {
  return {
    title: job.title,
    description: job.description ?? '',
    speakers: (job.speakers ?? []).map((s) => ({ name: s.name })),
    source: { bucket: job.source.bucket, key: job.source.key, etag: sourceEtag },
  };
}

/** `LIBRARY_PUBLIC_URL` + key, or the object's path-style URL on the store (each key segment encoded). */
export function libraryUrl(base: { publicUrl: string | undefined; endpoint: string | undefined; region: string }, bucket: string, key: string): string {
  const path = keyUrlPath(key);
  if (base.publicUrl !== undefined) return `${base.publicUrl}/${path}`;
  if (base.endpoint !== undefined) return `${base.endpoint.replace(/\/+$/, '')}/${bucket}/${path}`;
  return `https://${bucket}.s3.${base.region}.amazonaws.com/${path}`;
}

function bareEtag(etag: string | undefined): string {
  return (etag ?? '').replace(/^"|"$/g, '');
}

/** Percent-encoded, cut at whole characters to at most `max` bytes. */
function encodeCapped(text: string, max: number): string {
  const chars = Array.from(text);
  let out = encodeURIComponent(text);
  while (out.length > max && chars.length > 0) {
    chars.length = Math.max(0, chars.length - Math.ceil((out.length - max) / 9));
    out = encodeURIComponent(chars.join(''));
  }
  return out;
}

import { Readable } from 'node:stream';
import type { UploadResult } from '../../db/repositories/uploader.repository.ts';
import { PermanentError } from '../../shared/errors.ts';
import type { UploadJob } from '../../shared/contract/messages.ts';
import { keyUrlPath } from '../../shared/storage/object-key.ts';
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

/** The user metadata that says which source a library object is a copy of. */
export const SOURCE_ETAG_META = 'vigil-source-etag';
/** S3 keeps at most 2 KB of user metadata per object: the description and the rest go in the sidecar. */
const META_TITLE_BYTES = 1024;
const META_SPEAKERS_BYTES = 512;

/**
 * The talk into the video-library bucket under the source's key, with `<key>.json` beside
 * it (title, description, speaker names). Within one store the copy is server-side
 * (no byte passes through here); to another store it is streamed, never held whole and
 * never written to disk. A copy already there from the same source (a crash after the
 * copy but before the record) is kept, not made again.
 */
export async function uploadToLibrary(t: LibraryTarget, job: UploadJob, signal: AbortSignal): Promise<UploadResult> {
  const { bucket: srcBucket, key } = job.source;
  const src = await t.source.head(srcBucket, key);
  if (src === null) throw new PermanentError('OBJECT_NOT_FOUND', `the source object is not in bucket ${srcBucket}`);
  const etag = bareEtag(src.etag);
  await t.library.ensureBucket(t.bucket);
  if (!(await alreadyCopied(t, key, src))) {
    const metadata = libraryMetadata(job, etag);
    if (t.sameStore) {
      await t.source.copy({ bucket: srcBucket, key }, { bucket: t.bucket, key }, src.size, {
        metadata, contentType: src.contentType, ifMatch: src.etag, multipartAbove: t.multipartCopyAboveBytes, partSize: t.copyPartBytes, signal,
      });
    } else {
      const { body } = await t.source.openRead(srcBucket, key, { ifMatch: src.etag, signal });
      await t.library.upload(t.bucket, key, body, { metadata, contentType: src.contentType, signal });
    }
  }
  const sidecar = Buffer.from(JSON.stringify(sidecarOf(job, etag), null, 2));
  await t.library.upload(t.bucket, `${key}.json`, Readable.from([sidecar]), { contentType: 'application/json', signal });
  return { remoteId: `${t.bucket}/${key}`, url: t.urlOf(key), sourceEtag: src.etag, sourceBytes: src.size };
}

async function alreadyCopied(t: LibraryTarget, key: string, src: ObjectInfo): Promise<boolean> {
  const there = await t.library.head(t.bucket, key);
  return there !== null && there.size === src.size && src.etag !== undefined && there.metadata[SOURCE_ETAG_META] === bareEtag(src.etag);
}

/** S3 metadata travels in HTTP headers: ASCII only, so the text is percent-encoded. */
export function libraryMetadata(job: UploadJob, sourceEtag: string): Record<string, string> {
  return {
    [SOURCE_ETAG_META]: sourceEtag,
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

import type { ObjectStore } from '../../shared/storage/object-store.ts';
import type { ChunkSource } from './facebook-client.ts';

/**
 * The source object as the Facebook client reads it: ranged GETs, never the whole object,
 * never a local copy. While one chunk is sent the next one (the same length, right after
 * it, which is what the API asks for next) is already being read, so the transfer does not
 * wait for the store between chunks; at most two chunks are in memory. `ifMatch` makes a
 * source replaced in the middle of the upload fail instead of mixing two videos.
 */
export function s3ChunkSource(store: Pick<ObjectStore, 'readRange'>, ref: { bucket: string; key: string }, size: number, etag: string | undefined): ChunkSource {
  let ahead: { start: number; end: number; data: Promise<Buffer> } | undefined;
  const fetchRange = (start: number, end: number, signal?: AbortSignal) => {
    const data = store.readRange(ref.bucket, ref.key, start, end, { ifMatch: etag, signal });
    // A read ahead nobody asks for must not become an unhandled rejection.
    data.catch(() => undefined);
    return data;
  };
  return {
    size,
    read(start, end, signal) {
      const hit = ahead !== undefined && ahead.start === start && ahead.end === end;
      const data = hit ? ahead!.data : fetchRange(start, end, signal);
      ahead = undefined;
      if (end < size) {
        const next = Math.min(size, end + (end - start));
        ahead = { start: end, end: next, data: fetchRange(end, next, signal) };
      }
      return data;
    },
  };
}

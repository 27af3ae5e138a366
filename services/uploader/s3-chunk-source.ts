import type { Readable } from 'node:stream';
import { TransientError } from '../../shared/errors.ts';
import type { ObjectStore } from '../../shared/storage/object-store.ts';
import { toStorageError } from '../../shared/storage/storage-errors.ts';
import type { ChunkSource } from './facebook-transfer-body.ts';

export interface S3ChunkSource extends ChunkSource {
  /** Ends the GET still open (an upload that failed or stopped half-way). */
  close(): void;
}

/**
 * The source object as the Facebook client reads it, without a local copy: one GET from
 * the first offset asked for to the end of the object, read chunk by chunk as the API asks
 * (it asks for the ranges in order). While a chunk is sent the next `readAhead` are already
 * being read, so at most `1 + readAhead` chunks are in memory and the transfer seldom waits
 * for the store (deeper read-ahead measured no faster on the bench).
 * An offset out of order (the API corrected it, a resumed session) opens a new GET there;
 * so does a GET that broke (the store's socket timed out while a slow chunk was sent).
 * One stream instead of a ranged GET per chunk halves the CPU the reads take.
 * `etag` makes a source replaced in the middle of the upload fail instead of mixing two videos.
 *
 * Chunk buffers are recycled: a fresh 4 MiB Buffer per chunk is external memory, and V8
 * answered every two or three of them with a full mark-compact (about 60 per 500 MB on the
 * bench, a large and erratic share of the process's CPU). A chunk's buffer is filled again
 * only once two later chunks have been handed out: the client asks for the next range after
 * the API answered the last one, so by then the request that sent it is long over.
 */
export function s3ChunkSource(store: Pick<ObjectStore, 'openRead'>, ref: { bucket: string; key: string }, size: number, etag: string | undefined, readAhead = 1): S3ChunkSource {
  let stream: { body: Readable; chunks: AsyncIterator<Buffer>; leftover: Buffer | undefined; pos: number } | undefined;
  let ahead: { start: number; end: number; data: Promise<Lent> }[] = [];
  let free: Buffer[] = [];
  // The buffers of the chunks handed out, oldest first.
  let lent: Buffer[] = [];
  const alloc = (n: number): Buffer => {
    const i = free.findIndex((b) => b.length >= n);
    return i === -1 ? Buffer.allocUnsafe(n) : free.splice(i, 1)[0]!;
  };
  const lend = ({ full, chunk }: Lent): Buffer => {
    lent.push(full);
    while (lent.length > LENT_KEPT) free.push(lent.shift()!);
    return chunk;
  };
  // Reads are chained: the read-ahead and the next read never take from the stream at once.
  let queue: Promise<unknown> = Promise.resolve();

  const open = async (start: number, signal?: AbortSignal) => {
    stream?.body.destroy();
    const { body } = await store.openRead(ref.bucket, ref.key, { ifMatch: etag, signal, range: `bytes=${start}-` });
    stream = { body, chunks: body[Symbol.asyncIterator](), leftover: undefined, pos: start };
  };
  const take = async (start: number, end: number, signal?: AbortSignal): Promise<Lent> => {
    const full = alloc(end - start);
    const chunk = full.subarray(0, end - start);
    try {
      for (let tries = 0; ; tries++) {
        if (stream?.pos !== start) await open(start, signal);
        try {
          await takeFromStream(stream!, chunk);
          return { full, chunk };
        } catch (err) {
          stream?.body.destroy();
          stream = undefined;
          if (tries >= 1 || signal?.aborted) throw toStorageError(err, { op: 'read', bucket: ref.bucket }, signal);
        }
      }
    } catch (err) {
      // Nobody got the buffer: it can be filled again at once.
      free.push(full);
      throw err;
    }
  };
  const enqueue = (start: number, end: number, signal?: AbortSignal) => {
    const data = queue.then(() => take(start, end, signal));
    queue = data.catch(() => undefined);
    // A read ahead nobody asks for must not become an unhandled rejection.
    data.catch(() => undefined);
    return data;
  };
  return {
    size,
    read(start, end, signal) {
      const hit = ahead[0]?.start === start && ahead[0].end === end;
      const data = hit ? ahead.shift()!.data : enqueue(start, end, signal);
      if (!hit) ahead = [];
      // The API asks for the next range of the same length: keep `readAhead` of them coming.
      let from = ahead.at(-1)?.end ?? end;
      while (ahead.length < readAhead && from < size) {
        const to = Math.min(size, from + (end - start));
        ahead.push({ start: from, end: to, data: enqueue(from, to, signal) });
        from = to;
      }
      return data.then(lend);
    },
    close() {
      ahead = [];
      free = [];
      lent = [];
      stream?.body.destroy();
      stream = undefined;
    },
  };
}

/** A chunk handed out and the (possibly longer) recycled buffer it is the start of. */
interface Lent {
  full: Buffer;
  chunk: Buffer;
}
const LENT_KEPT = 2;

/** Fills `out` from the stream. */
async function takeFromStream(s: { chunks: AsyncIterator<Buffer>; leftover: Buffer | undefined; pos: number }, out: Buffer): Promise<void> {
  const n = out.length;
  let filled = 0;
  while (filled < n) {
    let chunk = s.leftover;
    s.leftover = undefined;
    if (chunk === undefined) {
      const next = await s.chunks.next();
      if (next.done) throw new TransientError('STORAGE_UNAVAILABLE', `the source object ended at ${s.pos + filled} bytes`);
      chunk = next.value;
    }
    const used = Math.min(chunk.length, n - filled);
    chunk.copy(out, filled, 0, used);
    filled += used;
    if (used < chunk.length) s.leftover = chunk.subarray(used);
  }
  s.pos += n;
}

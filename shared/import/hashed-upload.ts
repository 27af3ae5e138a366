import { createHash } from 'node:crypto';
import { open, stat } from 'node:fs/promises';
import { Transform } from 'node:stream';
import { PermanentError, TransientError } from '../errors.ts';
import type { ObjectStore } from '../storage/object-store.ts';

/** The file changed while it was read: still being written. Left for a later run. */
export class FileChangingError extends TransientError {
  constructor(message: string) {
    super('FILE_CHANGING', message);
  }
}

export interface HashedUpload {
  sha256: string;
  etag: string | undefined;
  size: number;
  mtimeMs: number;
}

/** Read size: large reads keep the per-chunk cost of the hash and the stream hop low. */
const READ_CHUNK = 1024 * 1024;

/**
 * Uploads a local file and hashes it from the same read: one read stream, each chunk
 * hashed (SHA-256) on its way to the upload, so the whole content is read once.
 *
 * The file is checked against `expected` (the size and mtime seen when the folder was
 * walked) before the read, and again after the upload, by the open handle and by the
 * path (a file replaced by a rename): any difference, or a byte count other than the size,
 * means the file is still being written; the uploaded object is then deleted and
 * `FileChangingError` thrown.
 *
 * The hash cannot go into the object's metadata: S3 takes metadata with the request's
 * headers, before the body that is hashed. The caller records it.
 */
export async function uploadHashed(
  store: ObjectStore,
  bucket: string,
  key: string,
  file: { absPath: string; size: number; mtimeMs: number },
  opts: { metadata?: Record<string, string>; contentType?: string; signal?: AbortSignal } = {},
): Promise<HashedUpload> {
  let handle;
  try {
    handle = await open(file.absPath, 'r');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    if (code === 'ENOENT') throw new FileChangingError(`the file is gone since the folder was read (${code})`);
    throw new PermanentError('FILE_UNREADABLE', `the file cannot be read (${code})`, err);
  }
  let read: ReturnType<typeof handle.createReadStream> | undefined;
  try {
    const before = await handle.stat();
    if (!before.isFile()) throw new PermanentError('FILE_UNREADABLE', 'not a regular file');
    const same = (s: { size: number; mtimeMs: number }) => s.size === file.size && Math.floor(s.mtimeMs) === file.mtimeMs;
    if (!same(before)) throw new FileChangingError('the file changed since the folder was read (size or modification time)');
    const hash = createHash('sha256');
    let bytes = 0;
    const tee = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        hash.update(chunk);
        bytes += chunk.length;
        cb(null, chunk);
      },
    });
    read = handle.createReadStream({ highWaterMark: READ_CHUNK, autoClose: false, start: 0 });
    read.on('error', (err) => tee.destroy(err));
    read.pipe(tee);
    const { etag } = await store.upload(bucket, key, tee, {
      ...(opts.metadata !== undefined && { metadata: opts.metadata }),
      ...(opts.contentType !== undefined && { contentType: opts.contentType }),
      ...(opts.signal !== undefined && { signal: opts.signal }),
    });
    const afterHandle = await handle.stat();
    const afterPath = await stat(file.absPath).catch(() => undefined);
    if (bytes !== file.size || !same(afterHandle) || afterPath === undefined || afterPath.ino !== before.ino || !same(afterPath)) {
      await store.delete(bucket, key);
      throw new FileChangingError('the file changed while it was uploaded (size or modification time); the uploaded copy was removed');
    }
    return { sha256: hash.digest('hex'), etag, size: bytes, mtimeMs: file.mtimeMs };
  } finally {
    // A failed upload stops reading; the stream must let go of the handle before it closes.
    read?.destroy();
    await handle.close();
  }
}

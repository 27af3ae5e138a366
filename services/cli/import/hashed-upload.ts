import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { lstat, open, readlink } from 'node:fs/promises';
import { Transform } from 'node:stream';
import { PermanentError, TransientError } from '../../../shared/errors.ts';
import type { FoundFile } from './folder-walk.ts';
import type { ObjectStore } from '../../../shared/storage/object-store.ts';

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
 * The one open of the file: a symbolic link at the path is refused (ELOOP), not followed,
 * and a FIFO put there opens at once instead of waiting for a writer (then refused: not a
 * regular file). Reading a regular file ignores O_NONBLOCK.
 */
const OPEN_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

/** The file as the folder walk saw it (lstat): the upload reads this very file or nothing. */
export type WalkedFile = Pick<FoundFile, 'absPath' | 'size' | 'mtimeMs' | 'dev' | 'ino'>;

/**
 * Where the opened descriptor really is (Linux's /proc), or undefined where that cannot be
 * known: O_NOFOLLOW guards only the last part of the path, so a folder on the way swapped for
 * a link shows here as a path other than the one asked for.
 */
async function openedPath(fd: number): Promise<string | undefined> {
  return readlink(`/proc/self/fd/${fd}`).catch(() => undefined);
}

/**
 * Uploads a local file and hashes it from the same read: one read stream, each chunk
 * hashed (SHA-256) on its way to the upload, so the whole content is read once.
 *
 * The path is opened once, without following a link (see OPEN_FLAGS), and everything is read
 * from that descriptor. The descriptor must be a regular file, really at `absPath` (no folder
 * on the way replaced by a link: FILE_OUTSIDE_FOLDER), and the very file the walk saw (same
 * device and inode; another file put there since is left for the next run's walk). Its size
 * and mtime are checked against the walk's before the read, and again after the upload, by
 * the descriptor and by the path (a file replaced by a rename): any difference, or a byte
 * count other than the size, means the file is still being written; the uploaded object is
 * then deleted and `FileChangingError` thrown.
 *
 * The hash cannot go into the object's metadata: S3 takes metadata with the request's
 * headers, before the body that is hashed. The caller records it.
 */
export async function uploadHashed(
  store: ObjectStore,
  bucket: string,
  key: string,
  file: WalkedFile,
  opts: { metadata?: Record<string, string>; contentType?: string; signal?: AbortSignal } = {},
): Promise<HashedUpload> {
  let handle;
  try {
    handle = await open(file.absPath, OPEN_FLAGS);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    if (code === 'ENOENT') throw new FileChangingError(`the file is gone since the folder was read (${code})`);
    // ELOOP on Linux, EMLINK on the BSDs: the last part of the path is a link now.
    if (code === 'ELOOP' || code === 'EMLINK') {
      throw new PermanentError('FILE_NOT_REGULAR', 'the file was replaced by a symbolic link since the folder was read (not followed, nothing read)', err);
    }
    throw new PermanentError('FILE_UNREADABLE', `the file cannot be read (${code})`, err);
  }
  let read: ReturnType<typeof handle.createReadStream> | undefined;
  try {
    const before = await handle.stat({ bigint: true });
    if (!before.isFile()) throw new PermanentError('FILE_NOT_REGULAR', 'not a regular file (replaced since the folder was read; nothing read)');
    const where = await openedPath(handle.fd);
    if (where !== undefined && where !== file.absPath) {
      if (where === `${file.absPath} (deleted)`) throw new FileChangingError('the file is gone since the folder was read (deleted)');
      throw new PermanentError('FILE_OUTSIDE_FOLDER', 'not the file the folder walk found: a folder on its path was replaced (by a link?) since the walk; nothing read');
    }
    const sameFile = (s: { dev: bigint; ino: bigint }) => s.dev === file.dev && s.ino === file.ino;
    if (!sameFile(before)) throw new FileChangingError('another file was put at this path since the folder was read; the next run reads it');
    const same = (s: { size: bigint; mtimeMs: bigint }) => Number(s.size) === file.size && Number(s.mtimeMs) === file.mtimeMs;
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
    const afterHandle = await handle.stat({ bigint: true });
    const afterPath = await lstat(file.absPath, { bigint: true }).catch(() => undefined);
    if (bytes !== file.size || !same(afterHandle) || afterPath === undefined || !sameFile(afterPath) || !same(afterPath)) {
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

import { readFileSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { verifyMp4 } from '../../shared/media/mp4-verify.ts';
import { PermanentError, TransientError, errorMessage, VigilError } from '../../shared/errors.ts';
import type { ClipFile } from './clip-watcher.ts';
import type { EncodeOptions, OutputStore, StoredClip } from './encode-types.ts';
import { TaskPool } from './task-pool.ts';

/*
 * Getting outputs into the store, and out again: every object an attempt writes is
 * recorded first, so that a permanent failure can delete all of them and leave no half
 * of a job behind.
 */

const DELETES = 8;

/** Verified (unless the trim already did), uploaded, then checked: the store must hold every byte. */
export async function storeClip(
  o: EncodeOptions,
  uploads: Uploads,
  clip: ClipFile,
  signal: AbortSignal,
  opts: { verified: boolean; duringEncode: boolean },
): Promise<StoredClip> {
  const seconds = clip.endSeconds - clip.startSeconds;
  if (!opts.verified) {
    try {
      await verifyMp4(clip.path, { durationSeconds: seconds, audio: o.info.audio !== undefined });
    } catch (err) {
      // The message names the output, not our work folder.
      if (err instanceof VigilError && err.code === 'OUTPUT_INVALID') throw new PermanentError(err.code, errorMessage(err).replace(clip.path, clip.name), err);
      throw err;
    }
  }
  const bytes = await uploads.put(o.plan.outputBucket, clip.name, clip.path, 'video/mp4', signal);
  const head = await o.store.head(o.plan.outputBucket, clip.name);
  if (head?.size !== bytes) throw new TransientError('OUTPUT_NOT_STORED', `${clip.name}: the store holds ${head?.size ?? 'no'} bytes of ${bytes}`);
  return { bucket: o.plan.outputBucket, key: clip.name, startSeconds: clip.startSeconds, endSeconds: clip.endSeconds, bytes, duringEncode: opts.duringEncode };
}

/** The objects this attempt wrote, so that a permanent failure leaves none of them behind. */
export class Uploads {
  private readonly written: { bucket: string; key: string }[] = [];

  private readonly store: OutputStore;

  constructor(store: OutputStore) {
    this.store = store;
  }

  async put(bucket: string, key: string, path: string, contentType: string, signal: AbortSignal): Promise<number> {
    const { size } = await stat(path);
    this.record(bucket, key, size);
    await this.store.upload(bucket, key, path, { contentType, signal });
    return size;
  }

  /**
   * A frame JPEG (a few hundred KB at most), read whole and sent as one PutObject. The read
   * is synchronous on purpose: each fs.promises call is a round trip through libuv's thread
   * pool, and on a virtual machine its wake-ups cost 50-200 us of CPU, 10 to 20 times a
   * small read from the page cache. Over the calls a frame took (two stats and readFile's
   * open, fstat, reads and close), for hundreds of frames a job, that was CPU taken from the
   * ffmpeg pass running beside it.
   */
  async putFrame(bucket: string, key: string, path: string, signal: AbortSignal): Promise<void> {
    const body = readFileSync(path);
    this.record(bucket, key, body.length);
    await this.store.put(bucket, key, body, { contentType: 'image/jpeg', signal });
  }

  /** Refuses an empty output, then records the object before the call: an upload can complete on the store after the client gave up. */
  private record(bucket: string, key: string, size: number): void {
    if (size === 0) throw new PermanentError('OUTPUT_INVALID', `${key}: ffmpeg wrote an empty file`);
    this.written.push({ bucket, key });
  }

  async removeAll(): Promise<void> {
    const deletes = new TaskPool(DELETES, () => undefined);
    for (const o of this.written.splice(0)) deletes.add(() => this.store.delete(o.bucket, o.key).catch(() => undefined));
    await deletes.idle();
  }
}

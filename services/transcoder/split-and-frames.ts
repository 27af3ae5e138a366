import { mkdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { buildTranscodeAndFramesArgs, type FrameOptions } from '../../shared/media/ffmpeg-args.ts';
import { runFfmpeg, type FfmpegRunResult } from '../../shared/media/ffmpeg-runner.ts';
import { durationTolerance } from '../../shared/media/ffprobe.ts';
import { FrameWatcher, type JudgedFrame } from '../../shared/media/frame-watcher.ts';
import { decoderPixelBound } from '../../shared/media/media-limits.ts';
import { PermanentError } from '../../shared/errors.ts';
import { ClipWatcher, type ClipFile } from './clip-watcher.ts';
import { memoryLimit, type EncodeOptions, type EncodeResult, type StoredClip } from './encode-types.ts';
import type { WorkPlan } from './plan.ts';
import { TaskPool } from './task-pool.ts';
import { storeClip, type Uploads } from './uploads.ts';

/*
 * The clips-and-frames pass: one ffmpeg run, with its outputs uploaded while it runs.
 * Clips go up as the segment muxer closes them (clip-watcher.ts). Frames go up as soon as
 * their verdict is final (shared/media/frame-watcher.ts), a few at a time, and every judged
 * JPEG leaves the work folder once dropped or stored; what is left when ffmpeg exits is
 * the last seconds that needed the end of the stream.
 */

const POLL_MS = 250;
const FRAME_UPLOADS = 8;

/** A `split` job: clips and frames from one ffmpeg run, uploaded while it still encodes. */
export async function splitAndFrames(o: EncodeOptions, w: Extract<WorkPlan, { kind: 'split' }>, uploads: Uploads): Promise<EncodeResult> {
  const started = performance.now();
  const total = o.info.durationSeconds;
  const frameOpts: FrameOptions = { every: w.frames.every, width: w.frames.width, height: w.frames.height, dead: { ...o.media.dead, enabled: w.frames.dropDead } };
  const { args, outputs } = buildTranscodeAndFramesArgs({
    ...o.media.encode, ...w.split, input: o.input, durationSeconds: total, stem: o.plan.stem,
    maxClips: o.media.limits.maxClips, maxDecodePixels: decoderPixelBound(o.media.limits),
    outDir: await mkdirs(o.workDir, 'clips'), framesDir: await mkdirs(o.workDir, 'frames'), frames: frameOpts,
  });

  // One failure (an upload, the watcher) stops everything: ffmpeg and the other uploads.
  const stop = new AbortController();
  const signal = AbortSignal.any([o.signal, stop.signal]);
  let failure: unknown;
  const fail = (err: unknown): void => {
    failure ??= err;
    stop.abort(err);
  };
  const clips: StoredClip[] = [];
  let ffmpegRunning = true;
  let uploading: Promise<void> = Promise.resolve();
  const enqueue = (clip: ClipFile): void => {
    const duringEncode = ffmpegRunning;
    uploading = uploading.then(async () => {
      if (failure) return;
      clips.push(await storeClip(o, uploads, clip, signal, { verified: false, duringEncode }));
    }).catch(fail);
  };
  const frameUploads = new TaskPool(o.media.frameUploads ?? FRAME_UPLOADS, fail);
  let framesDuringEncode = 0;
  const onFrame = async (f: JudgedFrame): Promise<void> => {
    if (f.verdict.dead) return removeFrame(f.path);
    frameUploads.add(async () => {
      if (signal.aborted) return;
      await uploads.putFrame(w.frames.bucket, f.name, f.path, signal);
      if (ffmpegRunning) framesDuringEncode++;
      await removeFrame(f.path);
    });
  };
  const frames = new FrameWatcher(outputs.frames, o.plan.stem, frameOpts.dead, onFrame);

  const run = runFfmpeg(args, {
    ...memoryLimit(o.media), ffmpegPath: o.media.ffmpegPath, stallMs: o.media.stallMs, timeoutMs: o.media.timeLimitMs, signal,
    onProgress: (p) => o.onProgress(p.outTimeSeconds ?? 0, total),
  });
  const exited = run.then(() => undefined, () => undefined);
  const watcher = outputs.clips.segmentList ? new ClipWatcher(outputs.clips, o.plan.stem, enqueue) : undefined;
  const watching = (async () => {
    while (ffmpegRunning && !signal.aborted) {
      await watcher?.poll(false);
      await frames.poll(false);
      await Promise.race([sleep(POLL_MS), exited]);
    }
  })().catch(fail);

  let result: FfmpegRunResult;
  try {
    try {
      result = await run;
    } catch (err) {
      throw failure ?? err;
    } finally {
      ffmpegRunning = false;
      await watching;
    }
    if (failure) throw failure;
    checkFullyDecoded(result, total);
    await o.onEncoded();
    if (watcher) await watcher.poll(true);
    else {
      // Not split: the one planned file is the clip.
      const c = outputs.clips.clips[0]!;
      enqueue({ path: c.path, name: c.name, startSeconds: 0, endSeconds: total });
    }
    // Only the tail is left: the frames within the look-ahead of the end, and the last JPEG.
    await frames.poll(true);
    await Promise.all([uploading, frameUploads.idle()]);
    if (failure) throw failure;
    if (clips.length === 0) throw new PermanentError('OUTPUT_MISSING', 'ffmpeg exited without writing a clip');
  } catch (err) {
    stop.abort(err);
    // Nothing may still be on its way to the store when the caller removes what was written.
    await Promise.all([uploading, frameUploads.idle()]);
    throw err;
  }
  return {
    clips,
    frames: { bucket: w.frames.bucket, prefix: `${o.plan.stem}/`, every: outputs.frames.every, counts: frames.counts(), storedDuringEncode: framesDuringEncode },
    ffmpegMs: result.elapsedMs,
    totalMs: performance.now() - started,
  };
}

/** A source whose data ends early (truncated, or garbage past some point) is corrupt, not shorter. */
function checkFullyDecoded(result: FfmpegRunResult, declaredSeconds: number): void {
  const decoded = result.lastProgress?.outTimeSeconds;
  if (decoded === undefined) return;
  if (decoded < declaredSeconds - durationTolerance(declaredSeconds)) {
    throw new PermanentError('SOURCE_CORRUPT', `ffmpeg could decode ${decoded.toFixed(1)} s of the ${declaredSeconds.toFixed(1)} s the source declares: it is truncated or corrupt`);
  }
}

async function mkdirs(base: string, name: string): Promise<string> {
  const dir = join(base, name);
  await mkdir(dir, { recursive: true });
  return dir;
}

/**
 * A judged frame's file goes at once; one already gone is fine. `unlink`, not `rm`: Node
 * 20's `fs.promises.rm` checks its path with a synchronous lstat on the main thread first.
 * Asynchronous, unlike the frame's read: removing a file waits on the file system's
 * journal, which ffmpeg, writing the next frames into the same folder, keeps busy.
 */
async function removeFrame(path: string): Promise<void> {
  await unlink(path).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT') throw err;
  });
}

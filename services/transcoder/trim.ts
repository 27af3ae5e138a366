import { join } from 'node:path';
import { buildTrimArgs, type H264Options } from '../../shared/media/ffmpeg-args.ts';
import { runFfmpeg, type FfmpegRunOptions } from '../../shared/media/ffmpeg-runner.ts';
import { probeVideo, type VideoInfo } from '../../shared/media/ffprobe.ts';
import type { InputSafety } from '../../shared/media/input-safety.ts';
import { decoderPixelBound } from '../../shared/media/media-limits.ts';
import { verifyMp4 } from '../../shared/media/mp4-verify.ts';
import { memoryLimit, type EncodeOptions, type EncodeResult } from './encode-types.ts';
import type { WorkPlan } from './plan.ts';
import { storeClip, type Uploads } from './uploads.ts';

/*
 * A talk cut to start..end with fades, a job's other kind of work beside the
 * clips-and-frames pass. trimWithFades works on local files only (the ffmpeg integration
 * tests call it so); trimAndStore adds the store, as the handler runs it.
 */

/** A `trim` job: one file, cut, faded and verified, then stored under the talk's name. */
export async function trimAndStore(o: EncodeOptions, w: Extract<WorkPlan, { kind: 'trim' }>, uploads: Uploads): Promise<EncodeResult> {
  const started = performance.now();
  const length = Math.min(w.end, o.info.durationSeconds) - w.start;
  const res = await trimWithFades({
    input: o.input, output: join(o.workDir, 'talk.mp4'), start: w.start, end: w.end, fadeSeconds: w.fadeSeconds,
    encode: o.media.encode, info: o.info, ffmpegPath: o.media.ffmpegPath, ffprobePath: o.media.ffprobePath,
    maxDecodePixels: decoderPixelBound(o.media.limits),
    run: { ...memoryLimit(o.media), stallMs: o.media.stallMs, timeoutMs: o.media.timeLimitMs, signal: o.signal, onProgress: (p) => o.onProgress(p.outTimeSeconds ?? 0, length) },
  });
  await o.onEncoded();
  // trimWithFades has verified the file already.
  const clip = { path: res.path, name: `${o.plan.stem}.mp4`, startSeconds: w.start, endSeconds: w.start + res.durationSeconds };
  const stored = await storeClip(o, uploads, clip, o.signal, { verified: true, duringEncode: false });
  return { clips: [stored], ffmpegMs: res.ffmpegMs, totalMs: performance.now() - started };
}

interface TrimWorkOptions extends InputSafety {
  /** @default 'ffmpeg' */
  ffmpegPath?: string;
  /** @default 'ffprobe' */
  ffprobePath?: string;
  /** Stall watchdog, hard limit, abort signal and progress callback for the ffmpeg run. */
  run?: Omit<FfmpegRunOptions, 'ffmpegPath' | 'cwd'>;
  input: string;
  output: string;
  start: number;
  end: number;
  /** @default 3 */
  fadeSeconds?: number;
  encode?: H264Options;
  info?: VideoInfo;
}

/** Cuts a talk to start..end with fades, then verifies the result. */
export async function trimWithFades(o: TrimWorkOptions): Promise<{ info: VideoInfo; path: string; durationSeconds: number; ffmpegMs: number }> {
  const probe = { ffprobePath: o.ffprobePath, formatWhitelist: o.formatWhitelist, signal: o.run?.signal };
  const info = o.info ?? (await probeVideo(o.input, probe));
  const { args, outputs } = buildTrimArgs({
    ...o.encode, input: o.input, output: o.output, start: o.start, end: o.end, fadeSeconds: o.fadeSeconds,
    hasAudio: info.audio !== undefined, durationSeconds: info.durationSeconds, formatWhitelist: o.formatWhitelist, maxDecodePixels: o.maxDecodePixels,
  });
  const run = await runFfmpeg(args, { ...o.run, ffmpegPath: o.ffmpegPath });
  await verifyMp4(outputs.path, { durationSeconds: outputs.durationSeconds, audio: info.audio !== undefined });
  return { info, path: outputs.path, durationSeconds: outputs.durationSeconds, ffmpegMs: run.elapsedMs };
}

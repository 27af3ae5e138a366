import { buildTrimArgs, type H264Options } from './ffmpeg-args.ts';
import type { InputSafety } from './input-safety.ts';
import { runFfmpeg, type FfmpegRunOptions } from './ffmpeg-runner.ts';
import { probeVideo, type VideoInfo } from './ffprobe.ts';
import { verifyMp4 } from './mp4-verify.ts';

/**
 * The ffmpeg layer's work on local files: a trim with fades end to end. Storage, job state
 * and deleting the source belong to the service.
 */

export interface MediaToolOptions extends InputSafety {
  /** @default 'ffmpeg' */
  ffmpegPath?: string;
  /** @default 'ffprobe' */
  ffprobePath?: string;
  /** Stall watchdog, hard limit, abort signal and progress callback for the ffmpeg run. */
  run?: Omit<FfmpegRunOptions, 'ffmpegPath' | 'cwd'>;
}

export interface TrimWorkOptions extends MediaToolOptions {
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

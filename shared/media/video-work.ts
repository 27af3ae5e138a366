import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { buildTrimArgs, type H264Options, type TranscodeOutputs } from './ffmpeg-args.ts';
import type { InputSafety } from './input-safety.ts';
import { runFfmpeg, type FfmpegRunOptions } from './ffmpeg-runner.ts';
import { probeVideo, type VideoInfo } from './ffprobe.ts';
import { verifyMp4 } from './mp4-verify.ts';
import { clipObjectName } from './output-names.ts';
import { parseSegmentList } from './segment-list.ts';

/**
 * The ffmpeg layer's work on local files: collecting (and naming) the clips of the one
 * clips-and-frames pass that services/transcoder/pipeline.ts runs (its frames: see
 * frame-watcher.ts), and a trim with fades end to end. Storage, job state and deleting
 * the source belong to the service.
 */

export interface MediaToolOptions extends InputSafety {
  /** @default 'ffmpeg' */
  ffmpegPath?: string;
  /** @default 'ffprobe' */
  ffprobePath?: string;
  /** Stall watchdog, hard limit, abort signal and progress callback for the ffmpeg run. */
  run?: Omit<FfmpegRunOptions, 'ffmpegPath' | 'cwd'>;
}

export interface ClipFile {
  path: string;
  /** Object name per the contract. */
  name: string;
  startSeconds: number;
  endSeconds: number;
}

/** The clips as written: the segment list when split, else the single planned file. */
export async function collectClips(outputs: TranscodeOutputs, durationSeconds: number, stem: string): Promise<ClipFile[]> {
  if (!outputs.split || !outputs.segmentList) {
    const c = outputs.clips[0]!;
    return [{ path: c.path, name: c.name, startSeconds: 0, endSeconds: durationSeconds }];
  }
  const entries = parseSegmentList(await readFile(outputs.segmentList, 'utf8'));
  const dir = dirname(outputs.segmentList);
  return entries.map((e, i) => ({
    path: join(dir, e.file),
    name: clipObjectName(stem, i),
    startSeconds: e.startSeconds,
    endSeconds: e.endSeconds,
  }));
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

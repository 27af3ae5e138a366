import { readdir, readFile, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { PermanentError } from '../errors.ts';
import { buildTrimArgs, type FrameOptions, type FrameOutputs, type H264Options, type TranscodeOutputs } from './ffmpeg-args.ts';
import type { InputSafety } from './input-safety.ts';
import { runFfmpeg, type FfmpegRunOptions } from './ffmpeg-runner.ts';
import { probeVideo, type VideoInfo } from './ffprobe.ts';
import { countVerdicts, freezeIntervals, judgeFrames, parseMetadataPrint, type FrameCounts, type FrameVerdict } from './frame-select.ts';
import { verifyMp4 } from './mp4-verify.ts';
import { clipObjectName, frameObjectName } from './output-names.ts';
import { parseSegmentList } from './segment-list.ts';

/**
 * The ffmpeg layer's work on local files: collecting (and naming) the outputs of the one
 * clips-and-frames pass that services/transcoder/pipeline.ts runs, and a trim with fades
 * end to end. Storage, job state and deleting the source belong to the service.
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

export interface FrameFile {
  path: string;
  /** Object name per the contract: `<stem>/<stem>_f000120.jpg`. */
  name: string;
  sourceIndex: number;
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

const JPEG_NAME = /^f_(\d{6,})\.jpg$/;

/**
 * Reads the metadata the pass printed, judges every sampled frame, deletes the dead JPEGs
 * and names the kept ones by their source frame index.
 */
export async function collectFrames(
  outputs: FrameOutputs,
  stem: string,
  opts: FrameOptions,
): Promise<{ every: number; kept: FrameFile[]; counts: FrameCounts; verdicts: FrameVerdict[] }> {
  const files = (await readdir(outputs.dir)).map((f) => JPEG_NAME.exec(f)).filter((m): m is RegExpExecArray => m !== null);
  const byOutput = new Map(files.map((m) => [Number(m[1]), join(outputs.dir, m[0])]));
  let verdicts: FrameVerdict[];
  if (outputs.sampledMetadata && outputs.freezeMetadata) {
    const sampled = parseMetadataPrint(await readFile(outputs.sampledMetadata, 'utf8'));
    const freezes = freezeIntervals(parseMetadataPrint(await readFile(outputs.freezeMetadata, 'utf8')));
    verdicts = judgeFrames(sampled, freezes, outputs.every, opts.dead);
    if (verdicts.length !== byOutput.size) {
      throw new PermanentError('FRAMES_MISMATCH', `${byOutput.size} JPEGs written but ${verdicts.length} frames measured in ${outputs.dir}`);
    }
  } else {
    verdicts = [...byOutput.keys()].sort((a, b) => a - b).map((k) => ({ outputIndex: k, sourceIndex: k * outputs.every }));
  }
  const kept: FrameFile[] = [];
  for (const v of verdicts) {
    const path = byOutput.get(v.outputIndex);
    if (path === undefined) throw new PermanentError('FRAMES_MISMATCH', `no JPEG for sampled frame ${v.outputIndex} in ${outputs.dir}`);
    if (v.dead) await rm(path, { force: true });
    else kept.push({ path, name: frameObjectName(stem, v.sourceIndex), sourceIndex: v.sourceIndex });
  }
  return { every: outputs.every, kept, counts: countVerdicts(verdicts), verdicts };
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
  await verifyMp4(outputs.path, { durationSeconds: outputs.durationSeconds, audio: info.audio !== undefined }, probe);
  return { info, path: outputs.path, durationSeconds: outputs.durationSeconds, ffmpegMs: run.elapsedMs };
}

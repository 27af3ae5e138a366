import { PermanentError } from '../errors.ts';
import { safeInputArgs, type InputSafety } from './input-safety.ts';
import { exitFailure, MediaToolFailure, runMediaTool } from './ffmpeg-runner.ts';

export interface VideoStreamInfo {
  codec: string;
  width: number;
  height: number;
  /** Average frame rate (falls back to the container's base rate). */
  fps: number;
  pixFmt?: string;
  /** Frame count from the container header, when it has one (AVI and MP4 do). */
  frames?: number;
  durationSeconds?: number;
}

export interface AudioStreamInfo {
  codec: string;
  sampleRate: number;
  channels: number;
  durationSeconds?: number;
}

export interface MediaInfo {
  /** ffprobe's demuxer name, e.g. `avi` or `mov,mp4,m4a,3gp,3g2,mj2`. */
  formatName: string;
  durationSeconds: number;
  video?: VideoStreamInfo;
  audio?: AudioStreamInfo;
}

export type VideoInfo = MediaInfo & { video: VideoStreamInfo };

export interface ProbeOptions extends InputSafety {
  /** The ffprobe binary (config passes `FFPROBE_PATH`). @default 'ffprobe' */
  ffprobePath?: string;
  /** @default 30_000 */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** The probe's arguments: JSON out, and the same input restrictions as every ffmpeg run. */
export function ffprobeArgs(path: string, opts: InputSafety = {}): string[] {
  return ['-hide_banner', '-v', 'error', '-print_format', 'json', '-show_format', '-show_streams', ...safeInputArgs(path, opts)];
}

type Json = Record<string, unknown>;

function num(v: unknown): number | undefined {
  const n = typeof v === 'number' ? v : typeof v === 'string' ? Number(v) : NaN;
  return Number.isFinite(n) ? n : undefined;
}

function rate(v: unknown): number | undefined {
  if (typeof v !== 'string') return undefined;
  const [a, b] = v.split('/').map(Number);
  if (a === undefined || !Number.isFinite(a) || a <= 0) return undefined;
  const r = b === undefined ? a : a / b;
  return Number.isFinite(r) && r > 0 ? r : undefined;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/** Turns ffprobe's JSON into MediaInfo; `undefined` fields are what the file does not say. */
export function parseProbeJson(json: string): MediaInfo {
  const doc = JSON.parse(json) as { format?: Json; streams?: Json[] };
  const streams = Array.isArray(doc.streams) ? doc.streams : [];
  const isCover = (s: Json): boolean => (s.disposition as Json | undefined)?.attached_pic === 1;
  const v = streams.find((s) => s.codec_type === 'video' && !isCover(s) && (num(s.width) ?? 0) > 0 && (num(s.height) ?? 0) > 0);
  const a = streams.find((s) => s.codec_type === 'audio');
  const info: MediaInfo = { formatName: str(doc.format?.format_name) ?? 'unknown', durationSeconds: NaN };
  if (v) {
    info.video = { codec: str(v.codec_name) ?? 'unknown', width: num(v.width)!, height: num(v.height)!, fps: rate(v.avg_frame_rate) ?? rate(v.r_frame_rate) ?? NaN };
    const pixFmt = str(v.pix_fmt);
    if (pixFmt) info.video.pixFmt = pixFmt;
    const frames = num(v.nb_frames);
    if (frames !== undefined) info.video.frames = frames;
    const d = num(v.duration);
    if (d !== undefined) info.video.durationSeconds = d;
  }
  if (a) {
    info.audio = { codec: str(a.codec_name) ?? 'unknown', sampleRate: num(a.sample_rate) ?? NaN, channels: num(a.channels) ?? NaN };
    const d = num(a.duration);
    if (d !== undefined) info.audio.durationSeconds = d;
  }
  const streamDurations = [info.video?.durationSeconds, info.audio?.durationSeconds].filter((d): d is number => d !== undefined);
  info.durationSeconds = num(doc.format?.duration) ?? (streamDurations.length > 0 ? Math.max(...streamDurations) : NaN);
  return info;
}

const MAX_JSON_BYTES = 16 * 1024 * 1024;

/**
 * Probes a local file. A file ffprobe cannot read as media (text, random bytes, a playlist
 * refused by the demuxer whitelist) is `PermanentError('NOT_A_VIDEO')`; a probe that hangs
 * (a FIFO, a stuck disk) times out as a transient error.
 */
export async function probeMedia(path: string, opts: ProbeOptions = {}): Promise<MediaInfo> {
  const bin = opts.ffprobePath ?? 'ffprobe';
  const args = ffprobeArgs(path, opts);
  const chunks: Buffer[] = [];
  let bytes = 0;
  const exit = await runMediaTool({
    tool: 'ffprobe', bin, args, stallMs: 0, timeoutMs: opts.timeoutMs ?? 30_000, signal: opts.signal, tailBytes: 16 * 1024,
    onStdout: (chunk) => {
      bytes += chunk.length;
      if (bytes <= MAX_JSON_BYTES) chunks.push(chunk);
    },
  });
  if (exit.code !== 0) {
    const err = exitFailure('ffprobe', bin, args, exit);
    // Exit 1 with a reason on stderr is ffprobe refusing the file; anything else (not found,
    // killed, out of memory) is about this machine and keeps exitFailure's verdict.
    if (exit.code === 1 && err.permanent) {
      const reason = exit.stderr.lastLines(3).join(' | ') || 'unreadable';
      throw new PermanentError('NOT_A_VIDEO', `not a video: ${reason}`, err.cause);
    }
    throw err;
  }
  const fail = (why: string): PermanentError =>
    new PermanentError('NOT_A_VIDEO', `not a video: ${why}`, new MediaToolFailure(why, 'ffprobe', args, exit.code, null, exit.stderr.text()));
  if (bytes > MAX_JSON_BYTES) throw fail(`ffprobe printed more than ${MAX_JSON_BYTES} bytes`);
  try {
    return parseProbeJson(Buffer.concat(chunks).toString('utf8'));
  } catch (err) {
    throw fail(`ffprobe output is not JSON (${(err as Error).message})`);
  }
}

/**
 * The length the source's headers promise: the container's duration, or the video
 * stream's frame count over its rate when that is longer. An AVI cut short (a camera
 * that lost power mid-write) keeps its header's frame count while the data, and so the
 * probed duration, stops half way.
 */
export function declaredSeconds(info: VideoInfo): number {
  const { frames, fps } = info.video;
  const byFrames = frames !== undefined && frames > 0 && fps > 0 ? frames / fps : 0;
  return Math.max(info.durationSeconds, byFrames);
}

/** How far short of the declared length a source may decode: a second, or 2% of it. */
export function durationTolerance(seconds: number): number {
  return Math.max(1, seconds * 0.02);
}

/** @throws PermanentError `SOURCE_TRUNCATED` when the data ends well before the headers say. */
export function checkNotTruncated(info: VideoInfo): void {
  const declared = declaredSeconds(info);
  if (info.durationSeconds < declared - durationTolerance(declared)) {
    throw new PermanentError(
      'SOURCE_TRUNCATED',
      `the source holds ${info.durationSeconds.toFixed(2)} s of the ${declared.toFixed(2)} s its header declares: it is truncated (a camera that lost power mid-write?); the source is kept`,
    );
  }
}

/** Probes and insists on a video stream with a size and a positive duration. */
export async function probeVideo(path: string, opts: ProbeOptions = {}): Promise<VideoInfo> {
  const info = await probeMedia(path, opts);
  return requireVideo(info);
}

export function requireVideo(info: MediaInfo): VideoInfo {
  if (!info.video) throw new PermanentError('NOT_A_VIDEO', `not a video: ${info.formatName} file without a video stream`);
  if (!(info.durationSeconds > 0)) throw new PermanentError('NOT_A_VIDEO', `not a video: ${info.formatName} file without a duration`);
  return info as VideoInfo;
}

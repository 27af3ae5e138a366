import { join } from 'node:path';
import { PermanentError } from '../errors.ts';
import { DEAD_FRAME_DEFAULTS, type DeadFrameOptions } from './frame-select.ts';
import { escapeFilterPath, fileUrl, safeInputArgs, type InputSafety } from './input-safety.ts';
import { clipObjectName } from './output-names.ts';

/**
 * Pure builders of ffmpeg argument arrays. They return the arguments after the runner's
 * global options (`-hide_banner -nostdin -nostats -loglevel … -progress pipe:1`), starting
 * with `-y`: outputs go to a work folder of ours, and a leftover from an interrupted attempt
 * must be overwritten (with -nostdin ffmpeg would otherwise exit on "already exists").
 * Work files get fixed names in a folder of ours; the contract's object names are
 * returned beside them, so a stem with `%`, `:` or `/` never reaches an ffmpeg pattern.
 */

export const X264_PRESETS = ['ultrafast', 'superfast', 'veryfast', 'faster', 'fast', 'medium', 'slow', 'slower', 'veryslow'] as const;

export interface H264Options {
  /** libx264 preset. @default 'veryfast' */
  preset?: (typeof X264_PRESETS)[number];
  /** libx264 constant rate factor (lower is better and bigger). @default 23 */
  crf?: number;
  /** AAC bit rate. @default '128k' */
  audioBitrate?: string;
  /** Encoder threads; 0 lets ffmpeg decide. @default 0 */
  threads?: number;
}

/** Browser-playable H.264: 8-bit 4:2:0 (High profile) and AAC. */
export function h264AacArgs(o: H264Options = {}): string[] {
  return [
    '-c:v', 'libx264', '-preset', o.preset ?? 'veryfast', '-crf', String(o.crf ?? 23),
    '-pix_fmt', 'yuv420p', '-profile:v', 'high', '-threads', String(o.threads ?? 0),
    '-c:a', 'aac', '-b:a', o.audioBitrate ?? '128k',
  ];
}

/** yuv420p needs even dimensions; this is a no-op (no swscale) when they already are. */
const EVEN_SIZE = 'scale=trunc(iw/2)*2:trunc(ih/2)*2';

/** Seconds as ffmpeg reads them, without float noise (120.00000000000001). */
export function secs(n: number): string {
  return String(Number(n.toFixed(6)));
}

export interface ClipPlanOptions {
  /** A video longer than this is split into clips. @default 240 */
  maxSeconds?: number;
  /** Length of each clip (the last one is shorter). @default 120 */
  clipSeconds?: number;
  /** More clips than this are refused before any list is built. @default 1000 */
  maxClips?: number;
}

export interface PlannedClip {
  /** 0 for the first clip (and for an unsplit video). */
  index: number;
  /** The contract's object name: `<stem>.mp4`, or `<stem>_000.mp4`, `<stem>_001.mp4`, … */
  name: string;
  /** The file ffmpeg writes. */
  path: string;
  startSeconds: number;
  endSeconds: number;
}

export interface ClipPlan {
  split: boolean;
  /** Split points in seconds (clipSeconds, 2·clipSeconds, …); empty when not split. */
  boundaries: number[];
  clips: PlannedClip[];
}

/** Where the clips will be cut and what they are called. */
export function planClips(durationSeconds: number, stem: string, outDir: string, opts: ClipPlanOptions = {}): ClipPlan {
  const maxSeconds = opts.maxSeconds ?? 240;
  const clipSeconds = opts.clipSeconds ?? 120;
  if (!(clipSeconds > 0) || !(maxSeconds > 0)) throw new PermanentError('BAD_SPLIT', `split needs positive seconds (maxSeconds ${maxSeconds}, clipSeconds ${clipSeconds})`);
  if (!(durationSeconds > maxSeconds)) {
    return { split: false, boundaries: [], clips: [{ index: 0, name: `${stem}.mp4`, path: join(outDir, 'video.mp4'), startSeconds: 0, endSeconds: durationSeconds }] };
  }
  // Counted before anything is built: the duration and the clip length may come from outside.
  const count = Math.ceil(durationSeconds / clipSeconds);
  const maxClips = opts.maxClips ?? 1000;
  if (!(count <= maxClips)) throw new PermanentError('LIMIT_EXCEEDED', `${count} clips of ${clipSeconds} s are more than the ${maxClips} a job may make`);
  const boundaries: number[] = [];
  for (let k = 1; k * clipSeconds < durationSeconds; k++) boundaries.push(k * clipSeconds);
  const edges = [0, ...boundaries, durationSeconds];
  const clips = edges.slice(0, -1).map((start, i) => {
    // The work file's number matches ffmpeg's `clip_%03d.mp4`; the object name is the contract's.
    const n = String(i).padStart(3, '0');
    return { index: i, name: clipObjectName(stem, i), path: join(outDir, `clip_${n}.mp4`), startSeconds: start, endSeconds: edges[i + 1]! };
  });
  return { split: true, boundaries, clips };
}

export interface TranscodeOptions extends H264Options, ClipPlanOptions, InputSafety {
  input: string;
  /** The source's duration (ffprobe): decides whether to split. */
  durationSeconds: number;
  /** Folder for the clips (it must exist). */
  outDir: string;
  /** Stem of the contract's names: the source's file name without extension. */
  stem: string;
}

export interface TranscodeOutputs extends ClipPlan {
  /** CSV the segment muxer appends a `file,start,end` row to as each clip closes; missing when not split. */
  segmentList?: string;
}

/**
 * The clip output: one MP4, or the segment muxer cutting at forced keyframes.
 * The keyframes are forced from a time list, not `expr:gte(t,n_forced*120)`: ffmpeg compares
 * list times with the frame's pts as exact rationals, exactly as the segment muxer compares
 * its cut times, whereas `t` in an expression is a double (119.99999 misses the frame).
 * `movflags=+faststart` works per segment in 5.1 (checked: moov before mdat in each clip).
 */
function clipOutputArgs(plan: ClipPlan, outDir: string, o: H264Options): { args: string[]; segmentList?: string } {
  const encode = h264AacArgs(o);
  if (!plan.split) return { args: [...encode, '-movflags', '+faststart', '-f', 'mp4', fileUrl(plan.clips[0]!.path)] };
  const times = plan.boundaries.map(secs).join(',');
  const segmentList = join(outDir, 'clips.csv');
  return {
    segmentList,
    args: [
      ...encode, '-force_key_frames:v', times,
      '-f', 'segment', '-segment_times', times, '-reset_timestamps', '1',
      '-segment_format', 'mp4', '-segment_format_options', 'movflags=+faststart',
      '-segment_list', fileUrl(segmentList), '-segment_list_type', 'csv',
      fileUrl(join(outDir, 'clip_%03d.mp4')),
    ],
  };
}

/** Transcode (and split when long) in one pass: AVI → H.264/AAC MP4, faststart. */
export function buildTranscodeArgs(o: TranscodeOptions): { args: string[]; outputs: TranscodeOutputs } {
  const plan = planClips(o.durationSeconds, o.stem, o.outDir, o);
  const out = clipOutputArgs(plan, o.outDir, o);
  const args = ['-y', ...safeInputArgs(o.input, o), '-filter_complex', `[0:v:0]${EVEN_SIZE}[vclip]`, '-map', '[vclip]', '-map', '0:a:0?', ...out.args];
  return { args, outputs: { ...plan, ...(out.segmentList ? { segmentList: out.segmentList } : {}) } };
}

export interface FrameOptions {
  /** Keep source frames 0, every, 2·every, … @default 10 */
  every?: number;
  /** Frames are scaled to fit inside width × height, aspect kept. @default 1280 */
  width?: number;
  /** @default 720 */
  height?: number;
  /** Enlarge frames smaller than width × height. @default false */
  upscale?: boolean;
  /** JPEG quality scale, 2 (best) to 31. @default 3 */
  jpegQuality?: number;
  dead?: DeadFrameOptions;
}

export interface FrameOutputs {
  every: number;
  /** Folder of the JPEGs: `f_000000.jpg`, `f_000001.jpg`, … numbered in output order. */
  dir: string;
  /** printf pattern of the JPEG names inside `dir`. */
  pattern: string;
  /** Per sampled frame: pblack and blur (missing when detection is off). */
  sampledMetadata?: string;
  /** Only frames where a freeze starts or ends. */
  freezeMetadata?: string;
}

/**
 * The frames chain, one decoding pass. freezedetect must see every frame (it compares
 * neighbours) and it tags only the frame where a freeze is recognised, so its tags are
 * printed before `select` drops most frames. blackframe and blurdetect judge single
 * frames and run after `select` and `scale`, on a tenth of the frames at the output size.
 * `amount=0` makes blackframe tag every frame, so the threshold is applied in
 * frame-select.ts with the others. Nothing is dropped in the graph: JPEGs are numbered
 * in output order, and output k is source frame k × every only while every selected
 * frame is written; dead ones are deleted once judged. `direct=1` writes each printed line
 * at once instead of 32 KiB at a time, so the prints can be read while ffmpeg runs
 * (frame-watcher.ts judges and hands over frames during the pass).
 */
function framesChain(inLabel: string, outLabel: string, framesDir: string, o: FrameOptions): { graph: string; outputs: FrameOutputs } {
  const every = o.every ?? 10;
  if (!Number.isInteger(every) || every < 1) throw new PermanentError('BAD_FRAMES', `frames.every must be a positive integer (got ${every})`);
  const w = o.width ?? 1280;
  const h = o.height ?? 720;
  const dead = { ...DEAD_FRAME_DEFAULTS, ...o.dead };
  const fit = o.upscale ? `scale=${w}:${h}` : `scale='min(${w},iw)':'min(${h},ih)'`;
  const scale = `${fit}:force_original_aspect_ratio=decrease`;
  const select = `select='not(mod(n\\,${every}))'`;
  const outputs: FrameOutputs = { every, dir: framesDir, pattern: 'f_%06d.jpg' };
  if (!dead.enabled) return { graph: `[${inLabel}]${select},${scale}[${outLabel}]`, outputs };
  outputs.freezeMetadata = join(framesDir, 'freeze.txt');
  outputs.sampledMetadata = join(framesDir, 'sampled.txt');
  const graph = [
    `[${inLabel}]freezedetect=n=${dead.freezeNoiseDb}dB:d=${secs(dead.freezeMinSeconds)}`,
    `metadata=mode=print:direct=1:file=${escapeFilterPath(fileUrl(outputs.freezeMetadata))}`,
    select,
    scale,
    `blackframe=amount=0:threshold=${dead.blackPixelThreshold}`,
    'blurdetect',
    `metadata=mode=print:direct=1:file=${escapeFilterPath(fileUrl(outputs.sampledMetadata))}[${outLabel}]`,
  ].join(',');
  return { graph, outputs };
}

/** `%` is image2's pattern character; a literal one in the folder must be doubled. */
function patternPath(dir: string, pattern: string): string {
  return fileUrl(join(dir.replace(/%/g, '%%'), pattern));
}

function frameOutputArgs(label: string, outputs: FrameOutputs, o: FrameOptions): string[] {
  // passthrough: the default vsync for image2 may duplicate or drop frames to a constant
  // rate, which would break "JPEG k is source frame k × every".
  return ['-map', `[${label}]`, '-fps_mode', 'passthrough', '-c:v', 'mjpeg', '-q:v', String(o.jpegQuality ?? 3), '-start_number', '0', '-f', 'image2', patternPath(outputs.dir, outputs.pattern)];
}

export interface FramesOptions extends FrameOptions, InputSafety {
  input: string;
  /** Folder for the JPEGs and the metadata files (it must exist). */
  framesDir: string;
}

/** Every Nth frame as JPEG with dead-frame measurements, one pass, no video output. */
export function buildFramesArgs(o: FramesOptions): { args: string[]; outputs: FrameOutputs } {
  const chain = framesChain('0:v:0', 'frames', o.framesDir, o);
  return { args: ['-y', ...safeInputArgs(o.input, o), '-filter_complex', chain.graph, ...frameOutputArgs('frames', chain.outputs, o)], outputs: chain.outputs };
}

export interface TranscodeAndFramesOptions extends TranscodeOptions {
  framesDir: string;
  frames?: FrameOptions;
}

/**
 * The main builder: one decode feeds both the clips and the frames through `split`, so the
 * source is read and decoded once and the x264 encode dominates the cost.
 */
export function buildTranscodeAndFramesArgs(o: TranscodeAndFramesOptions): {
  args: string[];
  outputs: { clips: TranscodeOutputs; frames: FrameOutputs };
} {
  const plan = planClips(o.durationSeconds, o.stem, o.outDir, o);
  const clip = clipOutputArgs(plan, o.outDir, o);
  const frames = o.frames ?? {};
  const chain = framesChain('vframes', 'frames', o.framesDir, frames);
  const graph = `[0:v:0]split=2[vclip0][vframes];[vclip0]${EVEN_SIZE}[vclip];${chain.graph}`;
  const args = [
    '-y', ...safeInputArgs(o.input, o), '-filter_complex', graph,
    '-map', '[vclip]', '-map', '0:a:0?', ...clip.args,
    ...frameOutputArgs('frames', chain.outputs, frames),
  ];
  const clips: TranscodeOutputs = { ...plan, ...(clip.segmentList ? { segmentList: clip.segmentList } : {}) };
  return { args, outputs: { clips, frames: chain.outputs } };
}

export interface TrimOptions extends H264Options, InputSafety {
  input: string;
  output: string;
  /** Seconds from the start of the source. */
  start: number;
  end: number;
  /** Fade in and out of picture and sound; shortened to half the length for short cuts. @default 3 */
  fadeSeconds?: number;
  /** Whether the source has an audio stream (ffprobe): `afade` needs one. */
  hasAudio: boolean;
  /** The source's duration; `end` past it is clamped. */
  durationSeconds?: number;
}

/**
 * Cut start..end with fades. `-ss` before `-i` seeks by index and then decodes accurately
 * from the preceding keyframe, so a cut at 30 min does not decode 30 min (which would also
 * look like a stall: no output time moves while frames are discarded). The timestamps then
 * start at 0, which is where the fades are placed.
 */
export function buildTrimArgs(o: TrimOptions): { args: string[]; outputs: { path: string; durationSeconds: number; fadeSeconds: number } } {
  const end = o.durationSeconds !== undefined ? Math.min(o.end, o.durationSeconds) : o.end;
  if (!(Number.isFinite(o.start) && o.start >= 0 && Number.isFinite(end) && end > o.start)) {
    throw new PermanentError('BAD_TRIM', `trim needs 0 <= start < end within the video (start ${o.start}, end ${o.end}, duration ${o.durationSeconds ?? 'unknown'})`);
  }
  const length = end - o.start;
  const fade = Math.max(0, Math.min(o.fadeSeconds ?? 3, length / 2));
  const d = secs(fade);
  const st = secs(length - fade);
  const vfade = fade > 0 ? `,fade=t=in:st=0:d=${d},fade=t=out:st=${st}:d=${d}` : '';
  const afade = fade > 0 ? `afade=t=in:st=0:d=${d},afade=t=out:st=${st}:d=${d}` : 'anull';
  const filters = [`[0:v:0]${EVEN_SIZE}${vfade}[v]`];
  if (o.hasAudio) filters.push(`[0:a:0]${afade}[a]`);
  const args = [
    '-y', ...safeInputArgs(o.input, o, ['-ss', secs(o.start), '-t', secs(length)]),
    '-filter_complex', filters.join(';'), '-map', '[v]', ...(o.hasAudio ? ['-map', '[a]'] : []),
    ...h264AacArgs(o), '-movflags', '+faststart', '-f', 'mp4', fileUrl(o.output),
  ];
  return { args, outputs: { path: o.output, durationSeconds: length, fadeSeconds: fade } };
}

import { availableParallelism } from 'node:os';
import type { VideoJobDefaults, VideoJobRules } from '../../shared/contract/messages.ts';
import { QUEUE_NAMES, isQueueName, type QueueName } from '../../shared/contract/queue-names.ts';
import { isBucketName } from '../../shared/contract/object-key.ts';
import { X264_PRESETS, type H264Options } from '../../shared/media/ffmpeg-args.ts';
import { DEAD_FRAME_DEFAULTS, type DeadFrameOptions } from '../../shared/media/frame-select.ts';
import { MEDIA_LIMIT_DEFAULTS, type MediaLimits } from '../../shared/media/media-limits.ts';
import type { EnvReader } from '../../shared/config/env-reader.ts';

export interface TranscoderConfig {
  /** `TRANSCODER_MIN_FREE_DISK`: a job is refused (and retried) below this. 0 disables. @default 2 GiB */
  minFreeDiskBytes: number;
  /** `TRANSCODER_STALL_TIMEOUT`: ffmpeg is killed when its progress stops this long. @default 60s */
  stallTimeoutMs: number;
  /** `TRANSCODER_TIME_LIMIT`: hard limit of one ffmpeg run. @default 3h */
  timeLimitMs: number;
  /** `TRANSCODER_PRESET` and `TRANSCODER_CRF`. @default veryfast, 23 */
  encode: Required<Pick<H264Options, 'preset' | 'crf'>>;
  /** `TRANSCODER_BLACK_PIXEL_THRESHOLD`, `_BLACK_PERCENT`, `_FREEZE_NOISE_DB`, `_FREEZE_SECONDS`, `_BLUR_THRESHOLD`. @default DEAD_FRAME_DEFAULTS */
  dead: Required<Omit<DeadFrameOptions, 'enabled'>>;
  /** `TRANSCODER_FRAME_UPLOADS`: frames uploaded at a time while ffmpeg encodes (each is a small JPEG). @default 8 */
  frameUploads: number;
  /** Job defaults (CONTRACT.md, "Video job"); a job's own fields win. Buckets come from `BUCKET_*`. */
  split: VideoJobDefaults['split'];
  frames: VideoJobDefaults['frames'];
  deleteSource: VideoJobDefaults['deleteSource'];
  fadeSeconds: VideoJobDefaults['fadeSeconds'];
  /** `TRANSCODER_MAX_DEATHS`: processes that may die running one job before it fails for good. @default 3 */
  maxDeaths: number;
  /**
   * `TRANSCODER_MAX_MEMORY`: ffmpeg's address space at most; 0 disables. x264 starts about
   * 1.5 threads per core, and each needs its frames: 48 threads of 1080p fit 4 GiB, not 1.5.
   * @default 4 GiB, or 192 MiB per core when that is more
   */
  maxMemoryBytes: number;
  /** `TRANSCODER_MAX_*`: what one job may ask of this host. */
  limits: MediaLimits;
  /** `TRANSCODER_NEXT_QUEUES`: the queues a job's `then` may name. @default ['uploader'] */
  nextQueues: QueueName[];
  /** `TRANSCODER_OUTPUT_BUCKETS`: buckets a job may name for outputs or frames, besides `BUCKET_VIDEO` and `BUCKET_FRAMES`. @default [] */
  extraBuckets: string[];
}

/** The video job defaults the configuration sets: buckets from `BUCKET_*`, the rest from `TRANSCODER_*`. */
export function videoJobDefaults(c: { buckets: { video: string; frames: string }; transcoder: TranscoderConfig }): VideoJobDefaults {
  const t = c.transcoder;
  return { outputBucket: c.buckets.video, framesBucket: c.buckets.frames, split: t.split, frames: t.frames, deleteSource: t.deleteSource, fadeSeconds: t.fadeSeconds };
}

export function readTranscoderConfig(r: EnvReader): TranscoderConfig {
  const d = DEAD_FRAME_DEFAULTS;
  const L = MEDIA_LIMIT_DEFAULTS;
  return {
    minFreeDiskBytes: r.byteSize('TRANSCODER_MIN_FREE_DISK', 2 * 1024 ** 3),
    stallTimeoutMs: r.duration('TRANSCODER_STALL_TIMEOUT', 60_000, 2_000, 3_600_000),
    timeLimitMs: r.duration('TRANSCODER_TIME_LIMIT', 3 * 3_600_000, 10_000, 48 * 3_600_000),
    encode: {
      preset: r.oneOf('TRANSCODER_PRESET', 'veryfast', X264_PRESETS),
      crf: r.int('TRANSCODER_CRF', 23, 0, 51),
    },
    dead: {
      blackPixelThreshold: r.int('TRANSCODER_BLACK_PIXEL_THRESHOLD', d.blackPixelThreshold, 0, 255),
      blackPercent: r.number('TRANSCODER_BLACK_PERCENT', d.blackPercent, 1, 100),
      freezeNoiseDb: r.number('TRANSCODER_FREEZE_NOISE_DB', d.freezeNoiseDb, -120, 0),
      freezeMinSeconds: r.number('TRANSCODER_FREEZE_SECONDS', d.freezeMinSeconds, 0.1, 3600),
      blurThreshold: r.number('TRANSCODER_BLUR_THRESHOLD', d.blurThreshold, 0.1, 1000),
    },
    frameUploads: r.int('TRANSCODER_FRAME_UPLOADS', 8, 1, 64),
    split: {
      maxSeconds: r.number('TRANSCODER_SPLIT_ABOVE_SECONDS', 240, 1, 86_400),
      clipSeconds: r.number('TRANSCODER_CLIP_SECONDS', 120, 1, 86_400),
    },
    frames: {
      every: r.int('TRANSCODER_FRAME_EVERY', 10, 1, 10_000),
      width: r.int('TRANSCODER_FRAME_WIDTH', 1280, 16, 8192),
      height: r.int('TRANSCODER_FRAME_HEIGHT', 720, 16, 8192),
      dropDead: r.bool('TRANSCODER_DROP_DEAD_FRAMES', true),
    },
    deleteSource: r.bool('TRANSCODER_DELETE_SOURCE', true),
    fadeSeconds: r.number('TRANSCODER_FADE_SECONDS', 3, 0, 60),
    maxDeaths: r.int('TRANSCODER_MAX_DEATHS', 3, 1, 100),
    maxMemoryBytes: r.byteSize('TRANSCODER_MAX_MEMORY', Math.max(4 * 1024 ** 3, availableParallelism() * 192 * 1024 ** 2)),
    limits: {
      maxSeconds: r.duration('TRANSCODER_MAX_DURATION', L.maxSeconds * 1000, 1000, 7 * 24 * 3600_000) / 1000,
      maxWidth: r.int('TRANSCODER_MAX_WIDTH', L.maxWidth, 16, 65_536),
      maxHeight: r.int('TRANSCODER_MAX_HEIGHT', L.maxHeight, 16, 65_536),
      maxPixels: r.int('TRANSCODER_MAX_PIXELS', L.maxPixels, 256, 1_000_000_000),
      maxFps: r.number('TRANSCODER_MAX_FPS', L.maxFps, 1, 10_000),
      maxClips: r.int('TRANSCODER_MAX_CLIPS', L.maxClips, 1, 1000),
      maxFrames: r.int('TRANSCODER_MAX_FRAMES', L.maxFrames, 0, 10_000_000),
    },
    nextQueues: nameList(r, 'TRANSCODER_NEXT_QUEUES', ['uploader'], isQueueName, `queue names (${QUEUE_NAMES.join(', ')})`),
    extraBuckets: nameList(r, 'TRANSCODER_OUTPUT_BUCKETS', [], isBucketName, 'S3 bucket names'),
  };
}

/** The rules a job is held to: which queues and buckets it may name. */
export function videoJobRules(c: { buckets: { video: string; frames: string }; transcoder: TranscoderConfig }): VideoJobRules {
  const extra = c.transcoder.extraBuckets;
  return { nextQueues: c.transcoder.nextQueues, outputBuckets: [c.buckets.video, ...extra], framesBuckets: [c.buckets.frames, ...extra] };
}

/** A comma-separated list whose every name passes `valid`; empty means none. */
function nameList<T extends string>(r: EnvReader, name: string, fallback: T[], valid: (v: string) => v is T, what: string): T[];
function nameList(r: EnvReader, name: string, fallback: string[], valid: (v: string) => boolean, what: string): string[];
function nameList(r: EnvReader, name: string, fallback: string[], valid: (v: string) => boolean, what: string): string[] {
  const v = r.optionalString(name);
  if (v === undefined) return fallback;
  const names = v.split(',').map((s) => s.trim()).filter(Boolean);
  const bad = names.filter((n) => !valid(n));
  if (bad.length > 0) {
    r.problems.push({ variable: name, expected: `comma-separated ${what}`, got: bad.join(',') });
    return fallback;
  }
  return [...new Set(names)];
}

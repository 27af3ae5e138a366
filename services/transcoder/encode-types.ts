import type { H264Options } from '../../shared/media/ffmpeg-args.ts';
import type { VideoInfo } from '../../shared/media/ffprobe.ts';
import type { DeadFrameOptions, FrameCounts } from '../../shared/media/frame-select.ts';
import type { MediaLimits } from '../../shared/media/media-limits.ts';
import type { ObjectStore } from '../../shared/storage/object-store.ts';
import type { JobPlan } from './plan.ts';

/**
 * The shapes the media half of a job shares: what the handler hands in, what comes back.
 * In a file of their own so that the trim, the clips-and-frames pass and the uploads can
 * name them without importing the entry point that picks between them.
 */

export interface MediaSettings {
  ffmpegPath: string;
  ffprobePath: string;
  stallMs: number;
  timeLimitMs: number;
  /** ffmpeg's address space at most (`TRANSCODER_MAX_MEMORY`); 0: unbounded. */
  memoryLimitBytes: number;
  /** What one job may ask (`TRANSCODER_MAX_*`); also bounds the decoder (`-max_pixels`). */
  limits: MediaLimits;
  encode: H264Options;
  /** Thresholds; whether to drop dead frames at all is the job's. */
  dead: Omit<DeadFrameOptions, 'enabled'>;
  /** Frame uploads at a time (`TRANSCODER_FRAME_UPLOADS`). @default 8 */
  frameUploads?: number;
}

export type OutputStore = Pick<ObjectStore, 'upload' | 'put' | 'head' | 'delete'>;

export interface StoredClip {
  bucket: string;
  key: string;
  startSeconds: number;
  endSeconds: number;
  bytes: number;
  /** Uploaded before ffmpeg exited. */
  duringEncode: boolean;
}

export interface EncodeResult {
  clips: StoredClip[];
  frames?: { bucket: string; prefix: string; every: number; counts: FrameCounts; storedDuringEncode: number };
  ffmpegMs: number;
  /** From the start of the pass until every output was stored. */
  totalMs: number;
}

export interface EncodeOptions {
  input: string;
  workDir: string;
  info: VideoInfo;
  plan: JobPlan;
  media: MediaSettings;
  store: OutputStore;
  signal: AbortSignal;
  /** Seconds of output written so far, of `totalSeconds`. */
  onProgress(seconds: number, totalSeconds: number): void;
  /** ffmpeg has exited; only uploads are left. */
  onEncoded(): Promise<void>;
}

/** Both passes run ffmpeg under the same cap, and an error names its variable. */
export function memoryLimit(m: MediaSettings): { memoryLimitBytes: number; memoryLimitName: string } {
  return { memoryLimitBytes: m.memoryLimitBytes, memoryLimitName: 'TRANSCODER_MAX_MEMORY' };
}

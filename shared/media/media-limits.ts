import { PermanentError } from '../errors.ts';
import { declaredSeconds, type VideoInfo } from './ffprobe.ts';

/**
 * What one job may ask of this host. Each is checked against the probe (and the header's
 * own claims) before any work, and before anything proportional to an untrusted number
 * (clip boundaries, frame names) is built.
 */
export interface MediaLimits {
  /** `TRANSCODER_MAX_DURATION`: the source's declared length. @default 12 h */
  maxSeconds: number;
  /** `TRANSCODER_MAX_WIDTH`. @default 4096 */
  maxWidth: number;
  /** `TRANSCODER_MAX_HEIGHT`. @default 4096 */
  maxHeight: number;
  /** `TRANSCODER_MAX_PIXELS`: width × height; H.264 level 5.1 plays up to 4096×2304 in browsers. @default 9_437_184 */
  maxPixels: number;
  /** `TRANSCODER_MAX_FPS`. @default 240 */
  maxFps: number;
  /** `TRANSCODER_MAX_CLIPS`: clips per job (clip names have three digits). @default 1000 */
  maxClips: number;
  /** `TRANSCODER_MAX_FRAMES`: frames extracted per job (a 2-hour 25 fps camera at every 10th: 18,000). @default 20_000 */
  maxFrames: number;
}

export const MEDIA_LIMIT_DEFAULTS: MediaLimits = {
  maxSeconds: 12 * 3600,
  maxWidth: 4096,
  maxHeight: 4096,
  maxPixels: 4096 * 2304,
  maxFps: 240,
  maxClips: 1000,
  maxFrames: 20_000,
};

/** The variable that sets each limit, named in every refusal. */
export const MEDIA_LIMIT_VARIABLES: Record<keyof MediaLimits, string> = {
  maxSeconds: 'TRANSCODER_MAX_DURATION',
  maxWidth: 'TRANSCODER_MAX_WIDTH',
  maxHeight: 'TRANSCODER_MAX_HEIGHT',
  maxPixels: 'TRANSCODER_MAX_PIXELS',
  maxFps: 'TRANSCODER_MAX_FPS',
  maxClips: 'TRANSCODER_MAX_CLIPS',
  maxFrames: 'TRANSCODER_MAX_FRAMES',
};

/** What the job will make of the source: clips (when split) and every Nth frame. */
export interface PlannedWork {
  split?: { maxSeconds: number; clipSeconds: number };
  frameEvery?: number;
}

/**
 * @throws PermanentError `LIMIT_EXCEEDED`, naming the value and the variable. Pure
 *   arithmetic: nothing is allocated in proportion to the numbers checked.
 */
export function checkMediaLimits(info: VideoInfo, work: PlannedWork, limits: MediaLimits): void {
  const over = (what: string, key: keyof MediaLimits, value: number | string) => {
    throw new PermanentError('LIMIT_EXCEEDED', `${what} ${value} is over ${MEDIA_LIMIT_VARIABLES[key]} (${limits[key]}); the source is kept`);
  };
  const seconds = declaredSeconds(info);
  const { width, height, fps } = info.video;
  if (!(seconds <= limits.maxSeconds)) over("the source's declared length in seconds", 'maxSeconds', round(seconds));
  if (width > limits.maxWidth) over("the source's width", 'maxWidth', width);
  if (height > limits.maxHeight) over("the source's height", 'maxHeight', height);
  if (width * height > limits.maxPixels) over(`the source's ${width}×${height} picture, in pixels,`, 'maxPixels', width * height);
  if (fps > limits.maxFps) over("the source's frame rate", 'maxFps', round(fps));
  if (work.split && seconds > work.split.maxSeconds) {
    const clips = Math.ceil(seconds / work.split.clipSeconds);
    if (!(clips <= limits.maxClips)) over(`${round(seconds)} s in clips of ${work.split.clipSeconds} s makes a clip count that`, 'maxClips', clips);
  }
  if (work.frameEvery !== undefined && Number.isFinite(fps)) {
    const frames = Math.ceil((seconds * fps) / work.frameEvery);
    if (!(frames <= limits.maxFrames)) over(`every ${work.frameEvery}th frame of ${round(seconds)} s at ${round(fps)} fps makes a frame count that`, 'maxFrames', frames);
  }
}

/** Room the decoder gets above `maxPixels`: it allocates padded pictures. */
export function decoderPixelBound(limits: Pick<MediaLimits, 'maxPixels'>): number {
  return limits.maxPixels * 2 + 1_000_000;
}

const round = (n: number) => Math.round(n * 100) / 100;

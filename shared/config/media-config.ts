import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import type { EnvReader } from './env-reader.ts';

/** The tools and the work folder; the transcoder's own settings are its section (services/transcoder/config.ts). */
export interface MediaConfig {
  /** `FFMPEG_PATH`. @default 'ffmpeg' (from PATH) */
  ffmpegPath: string;
  /** `FFPROBE_PATH`. @default 'ffprobe' */
  ffprobePath: string;
  /** `VIGIL_WORK_DIR`: per-job work folders go under it (absolute). @default `<os.tmpdir()>/vigil` */
  workDir: string;
}

export function readMediaConfig(r: EnvReader): MediaConfig {
  return {
    ffmpegPath: r.string('FFMPEG_PATH', 'ffmpeg'),
    ffprobePath: r.string('FFPROBE_PATH', 'ffprobe'),
    workDir: r.matching('VIGIL_WORK_DIR', join(tmpdir(), 'vigil'), isAbsolute, 'an absolute path'),
  };
}

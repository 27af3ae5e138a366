import { open } from 'node:fs/promises';
import { PermanentError } from '../errors.ts';
import { probeMedia, type MediaInfo, type ProbeOptions } from './ffprobe.ts';

export interface Mp4Box {
  type: string;
  offset: number;
  size: number;
}

/** The top-level boxes of an MP4 (ftyp, moov, mdat, …), read from their headers only. */
export async function readTopLevelBoxes(path: string, maxBoxes = 32): Promise<Mp4Box[]> {
  const fh = await open(path, 'r');
  try {
    const { size: fileSize } = await fh.stat();
    const boxes: Mp4Box[] = [];
    const head = Buffer.alloc(16);
    let offset = 0;
    while (offset + 8 <= fileSize && boxes.length < maxBoxes) {
      const { bytesRead } = await fh.read(head, 0, 16, offset);
      if (bytesRead < 8) break;
      let size = head.readUInt32BE(0);
      const type = head.toString('latin1', 4, 8);
      if (size === 1 && bytesRead >= 16) size = Number(head.readBigUInt64BE(8));
      else if (size === 0) size = fileSize - offset;
      if (size < 8) break;
      boxes.push({ type, offset, size });
      offset += size;
    }
    return boxes;
  } finally {
    await fh.close();
  }
}

/** Faststart: the index (`moov`) comes before the media (`mdat`), so a browser can start playing at once. */
export function isFastStart(boxes: readonly Mp4Box[]): boolean {
  const moov = boxes.findIndex((b) => b.type === 'moov');
  const mdat = boxes.findIndex((b) => b.type === 'mdat');
  return moov >= 0 && mdat >= 0 && moov < mdat;
}

export interface Mp4Expectation {
  /** Expected duration in seconds. */
  durationSeconds: number;
  /** Allowed difference. @default max(0.5 s, 1 % of the duration) */
  toleranceSeconds?: number;
  /** An AAC stream must be there (the source had audio). */
  audio: boolean;
}

/**
 * Checks an output before anything is deleted: H.264 yuv420p (+ AAC), the expected length,
 * moov before mdat. Throws `PermanentError('OUTPUT_INVALID')` naming what is wrong.
 */
export async function verifyMp4(path: string, expect: Mp4Expectation, opts: ProbeOptions = {}): Promise<MediaInfo> {
  const info = await probeMedia(path, { ...opts, formatWhitelist: ['mov'] });
  const problems: string[] = [];
  if (info.video?.codec !== 'h264') problems.push(`video codec ${info.video?.codec ?? 'missing'}, not h264`);
  if (info.video && info.video.pixFmt !== 'yuv420p') problems.push(`pixel format ${info.video.pixFmt ?? 'unknown'}, not yuv420p`);
  if (expect.audio && info.audio?.codec !== 'aac') problems.push(`audio codec ${info.audio?.codec ?? 'missing'}, not aac`);
  const tolerance = expect.toleranceSeconds ?? Math.max(0.5, expect.durationSeconds * 0.01);
  if (!(Math.abs(info.durationSeconds - expect.durationSeconds) <= tolerance)) {
    problems.push(`duration ${info.durationSeconds} s, expected ${expect.durationSeconds} ± ${tolerance} s`);
  }
  if (!isFastStart(await readTopLevelBoxes(path))) problems.push('moov is not before mdat (no faststart)');
  if (problems.length > 0) throw new PermanentError('OUTPUT_INVALID', `${path}: ${problems.join('; ')}`);
  return info;
}

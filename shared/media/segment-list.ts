import { PermanentError } from '../errors.ts';

/** One row of the segment muxer's `-segment_list_type csv`: a clip as actually written. */
export interface SegmentEntry {
  /** File name as written (relative to the list's folder). */
  file: string;
  startSeconds: number;
  endSeconds: number;
}

/**
 * Parses the segment list. It is the truth about the clips: the plan predicts them from the
 * probed duration, but the muxer only opens a clip when a keyframe reaches a cut point, so a
 * video whose last frame starts before a cut (duration 240.02 s at 25 fps) yields one clip
 * fewer than planned. Rows are `file,start,end`; a file name with a comma is CSV-quoted.
 */
export function parseSegmentList(csv: string): SegmentEntry[] {
  const out: SegmentEntry[] = [];
  for (const line of csv.split(/\r?\n/)) {
    if (line.trim() === '') continue;
    const m = /^("(?:[^"]|"")*"|[^,]*),([^,]+),([^,]+)$/.exec(line);
    const start = Number(m?.[2]);
    const end = Number(m?.[3]);
    if (!m || !Number.isFinite(start) || !Number.isFinite(end)) {
      throw new PermanentError('FFMPEG_OUTPUT_UNREADABLE', `segment list line not understood: ${JSON.stringify(line.slice(0, 200))}`);
    }
    const raw = m[1]!;
    const file = raw.startsWith('"') ? raw.slice(1, -1).replace(/""/g, '"') : raw;
    out.push({ file, startSeconds: start, endSeconds: end });
  }
  return out;
}

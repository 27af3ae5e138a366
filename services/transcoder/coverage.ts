import { PermanentError } from '../../shared/errors.ts';

/*
 * The last check before a job counts as stored: the source is deleted after it, so it
 * must not pass on outputs that leave part of the video out.
 */

/**
 * The clips, in order, cover `expected` without a gap: the first starts at its start, each
 * starts where the one before ended, the last ends at its end, each within a second (a
 * frame of a 1 fps camera; the segment muxer's boundaries are exact, the last packet of
 * audio or video may end a little before or after the container's duration).
 * @throws PermanentError `OUTPUT_INCOMPLETE`
 */
export function checkCoverage(clips: readonly { key: string; startSeconds: number; endSeconds: number }[], expected: { start: number; end: number }): void {
  const tolerance = 1;
  const sorted = [...clips].sort((a, b) => a.startSeconds - b.startSeconds);
  let at = expected.start;
  for (const c of sorted) {
    if (Math.abs(c.startSeconds - at) > tolerance) {
      throw new PermanentError('OUTPUT_INCOMPLETE', `${c.key} starts at ${c.startSeconds.toFixed(2)} s, not at ${at.toFixed(2)} s: the outputs leave a gap; the source is kept`);
    }
    at = c.endSeconds;
  }
  if (Math.abs(at - expected.end) > tolerance) {
    throw new PermanentError('OUTPUT_INCOMPLETE', `the outputs end at ${at.toFixed(2)} s of ${expected.end.toFixed(2)} s; the source is kept`);
  }
}

/**
 * The contract's object names of the transcoder's outputs (CONTRACT.md), built and parsed
 * in one place: `<stem>.mp4` for a video that is not split, `<stem>_000.mp4`,
 * `<stem>_001.mp4`, … for its clips, and `<stem>/<stem>_f<index>.jpg` for its frames.
 */

/** The contract's object name of clip `index` (from 0) of a split video: `<stem>_<index, 3 digits>.mp4`. */
export function clipObjectName(stem: string, index: number): string {
  return `${stem}_${String(index).padStart(3, '0')}.mp4`;
}

/** `<stem>.mp4` or `<stem>_NNN.mp4` at the bucket's root: the contract's clip names. */
export function isClipName(key: string, stem: string): boolean {
  if (key === `${stem}.mp4`) return true;
  return key.startsWith(`${stem}_`) && /^_\d{3}\.mp4$/.test(key.slice(stem.length));
}

/** The contract's object name of a frame: `<stem>/<stem>_f<index, 6 digits>.jpg`. */
export function frameObjectName(stem: string, sourceIndex: number): string {
  return `${stem}/${stem}_f${String(sourceIndex).padStart(6, '0')}.jpg`;
}

import { eyeCentres, meanPoint, type Box, type Point } from './geometry.ts';

/**
 * Whether a face beside the most confident one is a face of its own, judged by its landmarks
 * and its own quality rather than by the detector's confidence. A second person small in the
 * frame can score lower than a shoulder or a pattern the detector half-sees; what tells them
 * apart is that the landmark net, run on a real face, puts eyes, nose, mouth and jaw where a
 * face has them and fills the detector's box with them, while on a non-face its points fall
 * out of proportion or out of the box. Pure geometry on the engine's decoded pixels.
 */

export interface SecondFaceEvidence {
  /** The detector's box (decoded pixels, not clipped). */
  box: Box;
  /** The 68 iBUG points, same pixels. */
  landmarks: Point[];
  /** Variance of the Laplacian over the box resampled to a fixed size (`quality.ts`). */
  sharpness: number;
}

/**
 * Bounds measured on the real photos: the second faces of the accuracy bench's `two-people`
 * frames (37–65 px) lie well inside every one; the detector's second boxes on single-person
 * material (a shoulder under long hair, 0.70 in a tall portrait and 0.51 in a webcam frame;
 * boxes of 12–14 px inside crops that are all face, 0.91–0.96) miss one or more.
 */
export const SECOND_FACE = {
  /** Below this the landmark net has too few pixels to say anything (decoded pixels). */
  minSizePx: 20,
  /** The enrolment gate's own sharpness floor: a smear is nobody to count. */
  minSharpness: 40,
  /** Landmark extent over the box: across 0.86–1.15 and down 0.59–0.80 on real second faces. */
  extentX: [0.7, 1.4],
  extentY: [0.45, 1.0],
  /** Landmark centre off the box centre, a share of the box: across −0.10–0.03, down 0.08–0.16. */
  offsetX: 0.2,
  offsetY: [-0.1, 0.3],
  /** Eye distance over the box width: 0.38–0.51. */
  eyeSpan: [0.25, 0.7],
  /** The nose tip along the eye line, 0 at the left eye and 1 at the right: 0.39–0.62. */
  noseAlong: [0, 1],
  /** Nose tip, mouth centre and chin below the eye line, in eye distances: 0.45–0.73, 0.95–1.18, 1.58–1.97. */
  noseBelow: [0.2, 1.2],
  mouthBelow: [0.6, 1.8],
  chinBelow: [1.1, 2.8],
} as const;

/**
 * The order faces are judged in: most confident first (the search's order), except that the
 * first, which counts whatever its landmarks say, is the most confident one of a countable
 * size when there is one. In a crop that is all face the detector can score a 12-pixel
 * "face" (an eye, a nostril) above the face itself; every other face is judged beside it.
 */
export function countingOrder<F extends { box: Box }>(faces: readonly F[]): F[] {
  const anchor = faces.findIndex((f) => Math.min(f.box.width, f.box.height) >= SECOND_FACE.minSizePx);
  return anchor <= 0 ? [...faces] : [faces[anchor]!, ...faces.slice(0, anchor), ...faces.slice(anchor + 1)];
}

const within = (v: number, [lo, hi]: readonly [number, number]) => v >= lo && v <= hi;

/** What says the candidate is not a face of its own; empty when it is one. */
export function notASecondFace(f: SecondFaceEvidence, others: readonly Box[]): string[] {
  const out: string[] = [];
  const b = f.box;
  if (Math.min(b.width, b.height) < SECOND_FACE.minSizePx) out.push('size');
  if (f.sharpness < SECOND_FACE.minSharpness) out.push('sharpness');
  // A small box inside another face (an eye, a mouth) is part of that face.
  const cx = b.x + b.width / 2;
  const cy = b.y + b.height / 2;
  if (others.some((o) => cx > o.x && cx < o.x + o.width && cy > o.y && cy < o.y + o.height)) out.push('inside another face');
  const L = f.landmarks;
  if (L.length !== 68) return [...out, 'landmarks'];
  const xs = L.map((p) => p.x);
  const ys = L.map((p) => p.y);
  const x0 = Math.min(...xs);
  const y0 = Math.min(...ys);
  const w = Math.max(...xs) - x0;
  const h = Math.max(...ys) - y0;
  if (!within(w / b.width, SECOND_FACE.extentX) || !within(h / b.height, SECOND_FACE.extentY)) out.push('landmark extent');
  const dx = (x0 + w / 2 - cx) / b.width;
  const dy = (y0 + h / 2 - cy) / b.height;
  if (Math.abs(dx) > SECOND_FACE.offsetX || !within(dy, SECOND_FACE.offsetY)) out.push('landmark centre');
  // Positions along and across the eye line, in eye distances, so a leaning head reads the same.
  const { left, right } = eyeCentres(L);
  const span = Math.hypot(right.x - left.x, right.y - left.y);
  if (!within(span / b.width, SECOND_FACE.eyeSpan)) return [...out, 'eye span'];
  const ux = (right.x - left.x) / span;
  const uy = (right.y - left.y) / span;
  const along = (p: Point) => ((p.x - left.x) * ux + (p.y - left.y) * uy) / span;
  const below = (p: Point) => (-(p.x - left.x) * uy + (p.y - left.y) * ux) / span;
  const nose = L[30]!;
  if (!within(along(nose), SECOND_FACE.noseAlong)) out.push('nose beside the eyes');
  if (!within(below(nose), SECOND_FACE.noseBelow) || !within(below(meanPoint(L.slice(48, 68))), SECOND_FACE.mouthBelow) || !within(below(L[8]!), SECOND_FACE.chinBelow)) {
    out.push('nose, mouth, chin');
  }
  return out;
}

import type { Box, Point } from './geometry.ts';
import type { Affine } from './sampler.ts';

/**
 * Second looks: the detector run again on a square region of the image, rendered to the
 * detector's own input size. SSD MobileNet v1 shrinks the whole frame to 512×512, so its
 * confidence falls with the face's share of the frame (a sharp face a fifth of a video
 * still's height scores 0.57) and with a border that cuts the head (badge crops). A region
 * where the face is about 40% of the side gives the detector the framing it was trained
 * on; parts of the region outside the image are neutral grey. Pure geometry, no model.
 */

/** A square region in image pixels; may reach past the image's edges. */
export interface Look {
  x: number;
  y: number;
  side: number;
}

/** The side of the canvas a look is rendered to unless told: SSD MobileNet v1's input. */
export const LOOK_CANVAS = 512;

/** A square of `factor` × the box's larger side, centred on the box. */
export function lookAround(box: Box, factor: number): Look {
  const side = factor * Math.max(box.width, box.height);
  return { x: box.x + box.width / 2 - side / 2, y: box.y + box.height / 2 - side / 2, side };
}

/** The whole image centred in a square `factor` × its longer side: a margin on every side. */
export function lookAtAll(width: number, height: number, factor: number): Look {
  const side = factor * Math.max(width, height);
  return { x: (width - side) / 2, y: (height - side) / 2, side };
}

/**
 * A look's canvas as a sampling map: canvas pixel u lands on image pixel look.x + u·side/canvas
 * (so one canvas pixel is exactly side/canvas image pixels).
 */
export function lookMap(look: Look, canvas = LOOK_CANVAS): Affine {
  const s = look.side / canvas;
  return { a: s, b: 0, c: look.x, d: 0, e: s, f: look.y };
}

/**
 * The detector's first pass as face-api feeds it: the image with zeros after it to a square,
 * resized bilinearly to the canvas (tf.image.resizeBilinear, corners not aligned, taps
 * clamped to the square). Boxes found on it are in image pixels times side/canvas.
 */
export function wholeImageLook(width: number, height: number): Look {
  return { x: 0, y: 0, side: Math.max(width, height) };
}

/** A box found on a look's canvas, in image pixels (not clipped). */
export function boxFromLook(b: Box, look: Look, canvas = LOOK_CANVAS): Box {
  const s = look.side / canvas;
  return { x: look.x + b.x * s, y: look.y + b.y * s, width: b.width * s, height: b.height * s };
}

export function pointsFromLook(points: Point[], look: Look, canvas = LOOK_CANVAS): Point[] {
  const s = look.side / canvas;
  return points.map((p) => ({ x: look.x + p.x * s, y: look.y + p.y * s }));
}

/** Whether the look reaches past the image: its faces were found on a padded canvas. */
export function lookIsPadded(look: Look, width: number, height: number): boolean {
  return look.x < 0 || look.y < 0 || look.x + look.side > width || look.y + look.side > height;
}

/** The part of a box inside the image. */
export function clipBox(b: Box, width: number, height: number): Box {
  const x0 = Math.max(0, b.x);
  const y0 = Math.max(0, b.y);
  const x1 = Math.min(width, b.x + b.width);
  const y1 = Math.min(height, b.y + b.height);
  return { x: x0, y: y0, width: Math.max(0, x1 - x0), height: Math.max(0, y1 - y0) };
}

/** Intersection over union of two boxes. */
export function iou(a: Box, b: Box): number {
  const w = Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x);
  const h = Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y);
  if (w <= 0 || h <= 0) return 0;
  const inter = w * h;
  return inter / (a.width * a.height + b.width * b.height - inter);
}

/**
 * The detection of a look (in image pixels) that is the face the look was centred on: the
 * one whose centre is nearest the look's centre, provided it overlaps where the first pass
 * saw the face. Undefined when the look does not confirm the face.
 */
export function confirmingDetection<D extends { box: Box }>(found: D[], look: Look, expected: Box, minIou = 0.25): D | undefined {
  const cx = look.x + look.side / 2;
  const cy = look.y + look.side / 2;
  let best: D | undefined;
  let bestDistance = Infinity;
  for (const d of found) {
    if (iou(d.box, expected) < minIou) continue;
    const distance = Math.hypot(d.box.x + d.box.width / 2 - cx, d.box.y + d.box.height / 2 - cy);
    if (distance < bestDistance) {
      best = d;
      bestDistance = distance;
    }
  }
  return best;
}

/** Keeps the higher-scoring of any two faces that overlap by more than `maxIou` (in image pixels); most confident first. */
export function suppressOverlaps<F extends { box: Box; score: number }>(faces: F[], maxIou = 0.5): F[] {
  const kept: F[] = [];
  for (const f of [...faces].sort((a, b) => b.score - a.score)) {
    if (kept.every((k) => iou(k.box, f.box) <= maxIou)) kept.push(f);
  }
  return kept;
}

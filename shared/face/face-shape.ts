import { fitSimilarity, templatePoint } from './face-chip.ts';
import type { Point } from './geometry.ts';

/**
 * Whether 68 landmarks have the shape of a face. The landmark net answers with 68 points
 * whatever it is shown; on a face they sit close to dlib's mean face shape once scale,
 * rotation and position are taken out, on anything else (an earring the detector scored
 * 0.9 at the edge of a close-up) they are a jumble. Pure geometry, no model.
 */

/** The points of dlib's mean face (brows, eyes, nose, mouth: iBUG 17–67); the jaw has no template. */
const SHAPE_POINTS: readonly number[] = Array.from({ length: 51 }, (_, i) => i + 17);

/**
 * The root-mean-square distance of the landmarks from dlib's mean face shape fitted onto
 * them (least-squares similarity), as a share of the mean face's width: 0 for the mean face
 * itself. Measured on the real photos: their faces 0.021–0.072 in every kind of material
 * (the most on crops that are all face); the two earrings 0.58 and 0.68.
 */
export function faceShapeError(landmarks: Point[]): number {
  if (landmarks.length !== 68) throw new RangeError(`expected 68 landmarks, got ${landmarks.length}`);
  const template = SHAPE_POINTS.map((i) => templatePoint(i, 1, 0));
  const t = fitSimilarity(template, SHAPE_POINTS.map((i) => landmarks[i]!));
  const scale = Math.hypot(t.a, t.b);
  let sum = 0;
  for (const [k, i] of SHAPE_POINTS.entries()) {
    const p = template[k]!;
    const q = landmarks[i]!;
    sum += (t.a * p.x - t.b * p.y + t.tx - q.x) ** 2 + (t.b * p.x + t.a * p.y + t.ty - q.y) ** 2;
  }
  return Math.sqrt(sum / SHAPE_POINTS.length) / scale;
}

/** Above this the landmarks are not a face's (see `faceShapeError`): near three times the worst real face, a third of the earrings. */
export const MAX_FACE_SHAPE_ERROR = 0.2;

export function hasFaceShape(landmarks: Point[], maxError = MAX_FACE_SHAPE_ERROR): boolean {
  return faceShapeError(landmarks) <= maxError;
}

/** A detection as `withoutShapelessExtras` weighs it. */
export interface Described {
  box: { width: number; height: number };
  landmarks: Point[];
}

/**
 * Drops the detections beside a face that are no second person: landmarks without a face's
 * shape on something less than half that face's size (an earring at the edge of a
 * close-up, 12–14 px beside a 130 px face, scored 0.96). Every other detection stays, a
 * lone one too: a real face half hidden by a hand has no face's landmarks either (a webcam
 * still, scored 0.96), and the quality gate and the verification judge it as before.
 */
export function withoutShapelessExtras<D>(detections: D[], describedAs: (d: D) => Described): D[] {
  const all = detections.map(describedAs);
  const side = (d: Described) => Math.max(d.box.width, d.box.height);
  const faceSides = all.filter((d) => hasFaceShape(d.landmarks)).map(side);
  const largest = Math.max(0, ...faceSides);
  return detections.filter((_, i) => side(all[i]!) * 2 > largest || hasFaceShape(all[i]!.landmarks));
}

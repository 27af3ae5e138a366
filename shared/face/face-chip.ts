import { eyeCentres, meanPoint, type Box, type Point } from './geometry.ts';
import type { Affine, Border, PixelRect } from './sampler.ts';

/**
 * Where the landmark and descriptor nets look: the affine map from a net's square input to
 * the image, with what lies outside the pixels it may read. Pure geometry, no model.
 */
export interface Crop {
  map: Affine;
  valid: PixelRect;
  clampTo?: PixelRect;
  border: Border;
}

/**
 * face-api's crop for a net of input `size`: the region clipped to the canvas the face was
 * found on and floored (`Box.clipAtImageBorders`), zeros around it to a square, the odd
 * pixel of padding after the region, resized bilinearly (tf.image.resizeBilinear, corners
 * not aligned). The landmark net was trained on inputs made this way. `canvas` is that
 * canvas in image pixels: the image itself for the first pass, a look's square for a face
 * a look found (past the image it showed `border`). Undefined when nothing of the region is
 * on the canvas.
 */
export function paddedSquareCrop(region: Box, canvas: Box, imageWidth: number, imageHeight: number, size: number, border: Border = { value: 0 }): Crop | undefined {
  const x0 = Math.max(canvas.x, region.x);
  const y0 = Math.max(canvas.y, region.y);
  const x = Math.floor(x0);
  const y = Math.floor(y0);
  const width = Math.floor(Math.min(canvas.x + canvas.width, region.x + region.width) - x0);
  const height = Math.floor(Math.min(canvas.y + canvas.height, region.y + region.height) - y0);
  if (width <= 0 || height <= 0) return undefined;
  // What of the crop is image; the rest reads `border`, as the canvas showed it.
  const vx = Math.max(0, x);
  const vy = Math.max(0, y);
  const vw = Math.min(imageWidth, x + width) - vx;
  const vh = Math.min(imageHeight, y + height) - vy;
  if (vw <= 0 || vh <= 0) return undefined;
  const side = Math.max(width, height);
  const diff = side - Math.min(width, height);
  const before = diff - Math.round(diff * 0.5);
  const left = x - (width < height ? before : 0);
  const top = y - (height < width ? before : 0);
  const s = side / size;
  return {
    map: { a: s, b: 0, c: left, d: 0, e: s, f: top },
    valid: { x: vx, y: vy, width: vw, height: vh },
    clampTo: { x: left, y: top, width: side, height: side },
    border,
  };
}

/**
 * dlib's mean face shape (`get_face_chip_details` in dlib/image_transforms/interpolation.h,
 * Boost Software License 1.0): the average position of iBUG points 17–67 in a unit square.
 * The descriptor net was trained on chips that put a face's landmarks on these points.
 */
const MEAN_FACE_X = [
  0.000213256, 0.0752622, 0.18113, 0.29077, 0.393397, 0.586856, 0.689483, 0.799124, 0.904991, 0.98004, 0.490127, 0.490127, 0.490127, 0.490127, 0.36688, 0.426036,
  0.490127, 0.554217, 0.613373, 0.121737, 0.187122, 0.265825, 0.334606, 0.260918, 0.182743, 0.645647, 0.714428, 0.793132, 0.858516, 0.79751, 0.719335, 0.254149,
  0.340985, 0.428858, 0.490127, 0.551395, 0.639268, 0.726104, 0.642159, 0.556721, 0.490127, 0.423532, 0.338094, 0.290379, 0.428096, 0.490127, 0.552157, 0.689874,
  0.553364, 0.490127, 0.42689,
];
const MEAN_FACE_Y = [
  0.106454, 0.038915, 0.0187482, 0.0344891, 0.0773906, 0.0773906, 0.0344891, 0.0187482, 0.038915, 0.106454, 0.203352, 0.307009, 0.409805, 0.515625, 0.587326,
  0.609345, 0.628106, 0.609345, 0.587326, 0.216423, 0.178758, 0.179852, 0.231733, 0.245099, 0.244077, 0.231733, 0.179852, 0.178758, 0.216423, 0.244077, 0.245099,
  0.780233, 0.745405, 0.727388, 0.742578, 0.727388, 0.745405, 0.780233, 0.864805, 0.902192, 0.909281, 0.902192, 0.864805, 0.784792, 0.778746, 0.785343, 0.778746,
  0.784792, 0.824182, 0.831803, 0.824182,
];

/**
 * The points dlib aligns on: nose, eyes and upper lip (27–54, 60–64). The eyebrows move
 * with expression and the lower lip with the mouth, so they are left out.
 */
export const CHIP_POINTS: readonly number[] = Array.from({ length: 68 }, (_, i) => i).filter((i) => i >= 27 && !(i >= 55 && i <= 59) && !(i >= 65 && i <= 67));

/** The template's point `i` in a chip of `size` pixels with `padding` (a share of the face) on each side. */
export function templatePoint(i: number, size: number, padding: number): Point {
  return { x: ((padding + MEAN_FACE_X[i - 17]!) / (2 * padding + 1)) * size, y: ((padding + MEAN_FACE_Y[i - 17]!) / (2 * padding + 1)) * size };
}

/** A similarity transform (scale, rotation, translation): q = [[a, −b], [b, a]]·p + (tx, ty). */
export interface Similarity {
  a: number;
  b: number;
  tx: number;
  ty: number;
}

/**
 * The least-squares similarity transform taking `from` onto `to` (Umeyama's solution; in
 * 2-D, a complex linear regression q ≈ w·p + t, with w = a + ib).
 */
export function fitSimilarity(from: Point[], to: Point[]): Similarity {
  if (from.length !== to.length || from.length < 2) throw new RangeError('need two or more point pairs');
  const n = from.length;
  const pm = { x: from.reduce((s, p) => s + p.x, 0) / n, y: from.reduce((s, p) => s + p.y, 0) / n };
  const qm = { x: to.reduce((s, p) => s + p.x, 0) / n, y: to.reduce((s, p) => s + p.y, 0) / n };
  let sxx = 0;
  let re = 0;
  let im = 0;
  for (let i = 0; i < n; i++) {
    const px = from[i]!.x - pm.x;
    const py = from[i]!.y - pm.y;
    const qx = to[i]!.x - qm.x;
    const qy = to[i]!.y - qm.y;
    sxx += px * px + py * py;
    re += px * qx + py * qy;
    im += px * qy - py * qx;
  }
  if (sxx === 0) throw new RangeError('the source points coincide');
  const a = re / sxx;
  const b = im / sxx;
  return { a, b, tx: qm.x - (a * pm.x - b * pm.y), ty: qm.y - (b * pm.x + a * pm.y) };
}

export interface ChipDetails {
  /** Centre of the chip in image pixels. */
  centre: Point;
  /** Radians the face is rotated in the image (0 when the eyes are level). */
  angle: number;
  /** Image pixels per chip pixel. */
  scale: number;
  size: number;
}

/**
 * dlib's `get_face_chip_details`: the square of the image that, rotated and scaled, puts the
 * face's landmarks on the mean face shape in a `size` chip with `padding` around the face
 * (dlib's face descriptor uses 150 and 0.25).
 */
export function faceChipDetails(landmarks: Point[], size = 150, padding = 0.25): ChipDetails {
  if (landmarks.length !== 68) throw new RangeError(`expected 68 landmarks, got ${landmarks.length}`);
  const t = fitSimilarity(
    CHIP_POINTS.map((i) => templatePoint(i, size, padding)),
    CHIP_POINTS.map((i) => landmarks[i]!),
  );
  const half = size / 2;
  return { centre: { x: t.a * half - t.b * half + t.tx, y: t.b * half + t.a * half + t.ty }, angle: Math.atan2(t.b, t.a), scale: Math.hypot(t.a, t.b), size };
}

/**
 * dlib's `extract_image_chip` as a sampling map: chip pixels 0 and size − 1 land on the two
 * edges of the rotated square of side size·scale (so one chip pixel spans size/(size − 1)
 * of the scale). dlib samples from an image pyramid where the chip shrinks the face a lot;
 * the engine samples this map through `sampleShrinking` (the footprint averaged down by
 * whole blocks first, bilinear after): a supersampled box filter of each chip pixel's
 * footprint changed no distance that mattered on the real photos and cost up to 26 ms a
 * chip on a portrait.
 * Past the image, the edge pixels continue (`border`): a face cut by the frame's edge.
 */
export function faceChipCrop(chip: ChipDetails, imageWidth: number, imageHeight: number, border: Border = 'edge'): Crop {
  const side = chip.size * chip.scale;
  return rotatedCrop(chip.centre, side, chip.angle, side / (chip.size - 1), imageWidth, imageHeight, border);
}

/**
 * A square of `side` image pixels about `centre`, turned by `angle` radians (a face rolled by
 * `angle` stands upright in it), for a net of input `size`. The map follows the unrotated
 * crop's convention: input pixel u lands on centre − side/2 + u·side/size along each axis.
 */
export function rotatedSquareCrop(centre: Point, side: number, angle: number, size: number, imageWidth: number, imageHeight: number, border: Border): Crop {
  return rotatedCrop(centre, side, angle, side / size, imageWidth, imageHeight, border);
}

/** Output pixel (u, v) → centre + R(angle)·(u·step − side/2, v·step − side/2); the whole image is valid. */
function rotatedCrop(centre: Point, side: number, angle: number, step: number, imageWidth: number, imageHeight: number, border: Border): Crop {
  const cos = Math.cos(angle);
  const sin = Math.sin(angle);
  return {
    map: { a: cos * step, b: -sin * step, c: centre.x - cos * (side / 2) + sin * (side / 2), d: sin * step, e: cos * step, f: centre.y - sin * (side / 2) - cos * (side / 2) },
    valid: { x: 0, y: 0, width: imageWidth, height: imageHeight },
    border,
  };
}

/** The detector's box around a face, from its landmarks: measured on upright faces of the real photos, the box is 1.235 × the landmarks' extent and 0.131 of it higher. */
const BOX_PER_EXTENT = 1.235;
const BOX_RAISE = 0.131;

/**
 * Where the landmark net should look again at a face its first landmarks say is rolled by
 * `angle`: the landmarks turned upright about their centre give the face's extent, and the
 * square the detector would have drawn around the upright face, turned back by `angle`.
 */
export function uprightFaceSquare(landmarks: Point[], angle: number): { centre: Point; side: number } {
  const c = meanPoint(landmarks);
  const cos = Math.cos(-angle);
  const sin = Math.sin(-angle);
  const upright = landmarks.map((p) => ({ x: cos * (p.x - c.x) - sin * (p.y - c.y), y: sin * (p.x - c.x) + cos * (p.y - c.y) }));
  const xs = upright.map((p) => p.x);
  const ys = upright.map((p) => p.y);
  const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  const extent = Math.max(x1 - x0, y1 - y0);
  // The square's centre, upright, then turned back into the image.
  const ux = (x0 + x1) / 2;
  const uy = (y0 + y1) / 2 - BOX_RAISE * extent;
  return { centre: { x: c.x + Math.cos(angle) * ux - Math.sin(angle) * uy, y: c.y + Math.sin(angle) * ux + Math.cos(angle) * uy }, side: BOX_PER_EXTENT * extent };
}

/** The tilt of the eye line, radians: positive when the eye on the image's right is the lower one (image y points down). */
export function eyeLineAngle(landmarks: Point[]): number {
  const { left, right } = eyeCentres(landmarks);
  return Math.atan2(right.y - left.y, right.x - left.x);
}

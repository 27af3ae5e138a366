import type { Box, Point } from './geometry.ts';
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
 * a look found (past the image it showed `fill`). Undefined when nothing of the region is
 * on the canvas.
 */
export function paddedSquareCrop(region: Box, canvas: Box, imageWidth: number, imageHeight: number, size: number, fill = 0): Crop | undefined {
  const x0 = Math.max(canvas.x, region.x);
  const y0 = Math.max(canvas.y, region.y);
  const x = Math.floor(x0);
  const y = Math.floor(y0);
  const width = Math.floor(Math.min(canvas.x + canvas.width, region.x + region.width) - x0);
  const height = Math.floor(Math.min(canvas.y + canvas.height, region.y + region.height) - y0);
  if (width <= 0 || height <= 0) return undefined;
  // What of the crop is image; the rest reads `fill`, as the canvas showed it.
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
    border: { value: fill },
  };
}

function centre(points: Point[]): Point {
  const n = points.length;
  return { x: points.reduce((a, p) => a + p.x, 0) / n, y: points.reduce((a, p) => a + p.y, 0) / n };
}

/**
 * face-api's region for the descriptor (`FaceLandmarks.alignDlib`): a square scaled by the
 * eyes' distance to the mouth, placed by the centre of eyes and mouth; not rotated. face-api
 * keeps its corner inside the canvas (`min`: the canvas's top left, 0 for the image).
 */
export function faceApiAlignedRegion(landmarks: Point[], min: Point = { x: 0, y: 0 }): Box {
  const leftEye = centre(landmarks.slice(36, 42));
  const rightEye = centre(landmarks.slice(42, 48));
  const mouth = centre(landmarks.slice(48, 68));
  const toMouth = (p: Point) => Math.hypot(mouth.x - p.x, mouth.y - p.y);
  const size = Math.floor((toMouth(leftEye) + toMouth(rightEye)) / 2 / 0.45);
  const ref = centre([leftEye, rightEye, mouth]);
  return { x: Math.floor(Math.max(min.x, ref.x - 0.5 * size)), y: Math.floor(Math.max(min.y, ref.y - 0.43 * size)), width: size, height: size };
}

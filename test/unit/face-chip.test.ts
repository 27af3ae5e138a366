import { test } from 'node:test';
import assert from 'node:assert/strict';
import { faceApiAlignedRegion, paddedSquareCrop } from '../../shared/face/face-chip.ts';
import type { Point } from '../../shared/face/geometry.ts';

test("face-api's crop: the region clipped to its canvas and floored, zeros to a square (the odd pixel after), resized to the net's input", () => {
  const image = { x: 0, y: 0, width: 200, height: 200 };
  const crop = paddedSquareCrop({ x: 10.7, y: 20.2, width: 61, height: 80 }, image, 200, 200, 112)!;
  // 61×80 floored from 10.7/20.2: 61 wide (71.7 − 10.7), 80 high; 19 columns of padding, 9 before.
  assert.deepEqual(crop.valid, { x: 10, y: 20, width: 61, height: 80 });
  assert.deepEqual(crop.clampTo, { x: 1, y: 20, width: 80, height: 80 });
  assert.deepEqual(crop.map, { a: 80 / 112, b: 0, c: 1, d: 0, e: 80 / 112, f: 20 });
  assert.deepEqual(crop.border, { value: 0 });
  // Past the image on the first pass: only the part inside is read, and centred as face-api does.
  const cut = paddedSquareCrop({ x: -10, y: 5, width: 50, height: 40 }, { x: 0, y: 0, width: 100, height: 100 }, 100, 100, 112)!;
  assert.deepEqual(cut.valid, { x: 0, y: 5, width: 40, height: 40 });
  assert.deepEqual(cut.map.c, 0);
  assert.equal(paddedSquareCrop({ x: 120, y: 5, width: 50, height: 40 }, { x: 0, y: 0, width: 100, height: 100 }, 100, 100, 112), undefined);
  // Found on a look reaching past the image: the crop is not moved, the part past the image reads the look's grey.
  const look = { x: -100, y: -100, width: 300, height: 300 };
  const onLook = paddedSquareCrop({ x: -10, y: 5, width: 50, height: 50 }, look, 100, 100, 112, 128)!;
  assert.deepEqual(onLook.map, { a: 50 / 112, b: 0, c: -10, d: 0, e: 50 / 112, f: 5 });
  assert.deepEqual(onLook.valid, { x: 0, y: 5, width: 40, height: 50 });
  assert.deepEqual(onLook.border, { value: 128 });
});

/** 68 points with the eyes and the mouth at the given centres. */
function face(leftEye: Point, rightEye: Point, mouth: Point): Point[] {
  return Array.from({ length: 68 }, (_, i) => (i >= 36 && i < 42 ? leftEye : i >= 42 && i < 48 ? rightEye : i >= 48 ? mouth : { x: 0, y: 0 }));
}

test("face-api's descriptor region: a square scaled by the eyes' distance to the mouth, not rotated", () => {
  const r = faceApiAlignedRegion(face({ x: 40, y: 50 }, { x: 60, y: 50 }, { x: 50, y: 80 }));
  // Eyes 31.6 from the mouth: side floor(31.6 / 0.45) = 70; centre of eyes and mouth (50, 60).
  assert.deepEqual(r, { x: 15, y: Math.floor(60 - 0.43 * 70), width: 70, height: 70 });
  // face-api keeps the corner on its canvas: at the image's edge, or at a look's.
  const atEdge = face({ x: 10, y: 50 }, { x: 30, y: 50 }, { x: 20, y: 80 });
  assert.equal(faceApiAlignedRegion(atEdge).x, 0);
  assert.equal(faceApiAlignedRegion(atEdge, { x: -200, y: -200 }).x, Math.floor(20 - 0.5 * 70));
});

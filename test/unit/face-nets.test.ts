import { test } from 'node:test';
import assert from 'node:assert/strict';
import { suppress } from '../../shared/face/face-nets.ts';

test("the detector's boxes: above the floor, best first, overlaps over 0.5 dropped, corners clipped to the canvas, in canvas pixels", () => {
  // [top, left, bottom, right], relative to the canvas.
  const boxes = [
    [0.1, 0.1, 0.3, 0.3], // 0: a face
    [0.11, 0.1, 0.31, 0.3], // 1: the same face, a little lower (IoU ≈ 0.9)
    [0.5, 0.5, 0.7, 0.7], // 2: another face
    [0.2, 0.2, 0.4, 0.4], // 3: overlaps face 0 by IoU 1/7: kept
    [0.8, -0.1, 1.2, 0.1], // 4: past the canvas: clipped
    [0.6, 0.6, 0.65, 0.65], // 5: under the floor
  ].flat();
  const scores = [0.9, 0.95, 0.8, 0.6, 0.7, 0.2];
  const found = suppress(boxes, scores, 0.3, 100);
  assert.deepEqual(
    found.map((d) => d.score),
    [0.95, 0.8, 0.7, 0.6],
  );
  const rounded = found.map((d) => Object.values(d.box).map((v) => Math.round(v * 1e6) / 1e6));
  assert.deepEqual(rounded, [
    [10, 11, 20, 20],
    [50, 50, 20, 20],
    [0, 80, 10, 20],
    [20, 20, 20, 20],
  ]);
  // The floor is exclusive, as face-api's.
  assert.equal(suppress(boxes, scores, 0.95, 100).length, 0);
});

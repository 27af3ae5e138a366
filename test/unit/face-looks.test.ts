import { test } from 'node:test';
import assert from 'node:assert/strict';
import { boxFromLook, clipBox, confirmingDetection, iou, lookAround, lookAtAll, lookIsPadded, lookMap, pointsFromLook, suppressOverlaps, wholeImageLook, LOOK_CANVAS } from '../../shared/face/looks.ts';
import { applyAffine } from '../../shared/face/sampler.ts';

const close = (a: number, b: number, eps = 1e-9) => assert.ok(Math.abs(a - b) < eps, `${a} ≉ ${b}`);

test('a second look is a square around the face, reaching past the border when the face touches it', () => {
  const look = lookAround({ x: 10, y: 20, width: 60, height: 80 }, 2);
  assert.deepEqual(look, { x: -40, y: -20, side: 160 });
  assert.equal(lookIsPadded(look, 640, 480), true);
  assert.equal(lookIsPadded(lookAround({ x: 300, y: 200, width: 50, height: 50 }, 2.2), 640, 480), false);
  assert.deepEqual(lookAtAll(150, 100, 1.8), { x: -60, y: -85, side: 270 });
});

test('a box and landmarks found on a look map back to image pixels', () => {
  const look = { x: -40, y: 100, side: 1024 };
  // One canvas pixel is two image pixels here.
  assert.deepEqual(boxFromLook({ x: 100, y: 50, width: 128, height: 64 }, look), { x: 160, y: 200, width: 256, height: 128 });
  assert.deepEqual(pointsFromLook([{ x: 0, y: 0 }, { x: LOOK_CANVAS, y: LOOK_CANVAS }], look), [{ x: -40, y: 100 }, { x: 984, y: 1124 }]);
  assert.deepEqual(clipBox({ x: -10, y: 90, width: 100, height: 100 }, 80, 150), { x: 0, y: 90, width: 80, height: 60 });
});

test('a look samples canvas pixel v at image pixel look + v·side/canvas, and its boxes map back through the same scale', () => {
  const look = { x: 100, y: -50, side: 300 };
  for (const v of [0, 1, 256, 511]) {
    const p = applyAffine(lookMap(look), { x: v, y: v });
    close(p.x, look.x + (v * look.side) / LOOK_CANVAS);
    close(p.y, look.y + (v * look.side) / LOOK_CANVAS);
    const back = boxFromLook({ x: v, y: v, width: 0, height: 0 }, look);
    close(back.x, p.x);
    close(back.y, p.y);
  }
  // The first pass: the image at the top left of a square of its longer side (face-api's padding).
  assert.deepEqual(wholeImageLook(853, 480), { x: 0, y: 0, side: 853 });
});

test('a look confirms the face it was centred on, not a neighbour, and not something elsewhere', () => {
  const expected = { x: 200, y: 200, width: 100, height: 100 };
  const look = lookAround(expected, 2.56); // 256 image px, centred on (250, 250)
  const face = { box: { x: 215, y: 217, width: 70, height: 65 }, score: 0.97 };
  const neighbour = { box: { x: 322, y: 217, width: 50, height: 50 }, score: 0.99 };
  const offCentre = { box: { x: 190, y: 190, width: 90, height: 90 }, score: 0.9 }; // overlaps too, further from the look's centre
  assert.equal(confirmingDetection([neighbour, offCentre, face], look, expected), face);
  assert.equal(confirmingDetection([neighbour], look, expected), undefined);
  assert.equal(confirmingDetection([], look, expected), undefined);
});

test('overlapping faces keep the more confident; separate faces are all kept', () => {
  const a = { box: { x: 0, y: 0, width: 100, height: 100 }, score: 0.6 };
  const b = { box: { x: 10, y: 5, width: 100, height: 100 }, score: 0.95 };
  const c = { box: { x: 300, y: 0, width: 100, height: 100 }, score: 0.55 };
  assert.deepEqual(suppressOverlaps([a, b, c]), [b, c]);
  close(iou(a.box, a.box), 1);
  assert.equal(iou(a.box, c.box), 0);
});

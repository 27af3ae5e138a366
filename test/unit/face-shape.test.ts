import { test } from 'node:test';
import assert from 'node:assert/strict';
import { templatePoint } from '../../shared/face/face-chip.ts';
import { faceShapeError, hasFaceShape, MAX_FACE_SHAPE_ERROR, withoutShapelessExtras } from '../../shared/face/face-shape.ts';
import type { Point } from '../../shared/face/geometry.ts';

/** dlib's mean face (jaw points anywhere: they are not compared), turned, scaled and moved. */
function meanFace(scale: number, angle: number, dx: number, dy: number): Point[] {
  const c = Math.cos(angle);
  const s = Math.sin(angle);
  return Array.from({ length: 68 }, (_, i) => {
    const p = i >= 17 ? templatePoint(i, 1, 0) : { x: 0.5, y: 1 };
    return { x: scale * (c * p.x - s * p.y) + dx, y: scale * (s * p.x + c * p.y) + dy };
  });
}

test("the mean face has no shape error wherever it lies, and a face's small deviations stay small", () => {
  for (const [scale, angle] of [
    [100, 0],
    [12, 2.8],
    [640, -0.5],
  ] as const) {
    assert.ok(faceShapeError(meanFace(scale, angle, 40, -7)) < 1e-9);
  }
  // Every point moved by 3% of the face's width, alternately: an error of 0.03 (the real faces: 0.02–0.05).
  const wobbly = meanFace(200, 0.1, 10, 10).map((p, i) => ({ x: p.x + (i % 2 ? 6 : -6), y: p.y }));
  assert.ok(Math.abs(faceShapeError(wobbly) - 0.03) < 0.005, String(faceShapeError(wobbly)));
  assert.equal(hasFaceShape(wobbly), true);
});

test('landmarks that are not where a face has them are refused: jumbled, mirrored or collapsed', () => {
  const face = meanFace(150, 0, 0, 0);
  // Each feature's points handed to another feature (as on an earring the detector took for a face).
  const jumbled = face.map((_, i) => face[i < 17 ? i : 17 + ((i - 17 + 23) % 51)]!);
  assert.ok(faceShapeError(jumbled) > 3 * MAX_FACE_SHAPE_ERROR, String(faceShapeError(jumbled)));
  // Left and right swapped: no rotation makes a face's mirror image of it.
  assert.equal(hasFaceShape(face.map((p) => ({ x: -p.x, y: p.y }))), false);
  // Everything in a line.
  assert.equal(hasFaceShape(face.map((p, i) => ({ x: i, y: 2 * i }))), false);
  assert.throws(() => faceShapeError(face.slice(0, 67)), RangeError);
});

test('beside a face, a much smaller detection without a face\'s shape is dropped; anything else stays', () => {
  const face = { box: { width: 138, height: 140 }, landmarks: meanFace(120, 0, 10, 10) };
  const jumble = (side: number) => ({ box: { width: side, height: side }, landmarks: meanFace(side, 0, 0, 0).map((p, i) => ({ x: p.x + (i % 3) * side, y: p.y - (i % 5) * side })) });
  const earring = jumble(14);
  const same = (d: typeof face) => d;
  assert.deepEqual(withoutShapelessExtras([earring, face], same), [face]);
  // A second person of a face's size whose landmarks fail (a hand over the face) is still a person.
  const hidden = jumble(90);
  assert.deepEqual(withoutShapelessExtras([face, hidden], same), [face, hidden]);
  // Alone, a detection is kept whatever its landmarks: the quality gate judges it.
  assert.deepEqual(withoutShapelessExtras([earring], same), [earring]);
  const small = { box: { width: 30, height: 30 }, landmarks: meanFace(25, 0.2, 0, 0) };
  assert.deepEqual(withoutShapelessExtras([face, small], same), [face, small]);
});

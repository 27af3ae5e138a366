import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Box, Point } from '../../shared/face/geometry.ts';
import { countingOrder, notASecondFace, type SecondFaceEvidence } from '../../shared/face/second-face.ts';
import { smallCandidate } from '../../shared/face/face-search.ts';

/** A frontal face in the 68-point layout as face-api puts it in a 90×98 detector box at (5, 2). */
function face(): SecondFaceEvidence {
  const pts: Point[] = [];
  const ring = (n: number, cx: number, cy: number, rx: number, ry: number) => {
    for (let i = 0; i < n; i++) pts.push({ x: cx + rx * Math.cos((2 * Math.PI * i) / n), y: cy + ry * Math.sin((2 * Math.PI * i) / n) });
  };
  for (let i = 0; i <= 16; i++) pts.push({ x: 50 - 45 * Math.cos((Math.PI * i) / 16), y: 40 + 55 * Math.sin((Math.PI * i) / 16) });
  for (let i = 0; i < 5; i++) pts.push({ x: 15 + 7 * i, y: 30 });
  for (let i = 0; i < 5; i++) pts.push({ x: 57 + 7 * i, y: 30 });
  for (let i = 0; i < 4; i++) pts.push({ x: 50, y: 40 + 7 * i });
  for (let i = 0; i < 5; i++) pts.push({ x: 42 + 4 * i, y: 66 });
  ring(6, 33, 42, 5, 2);
  ring(6, 67, 42, 5, 2);
  ring(12, 50, 78, 12, 5);
  ring(8, 50, 78, 8, 2);
  return { box: { x: 5, y: 2, width: 90, height: 98 }, landmarks: pts, sharpness: 500 };
}

const turned = (f: SecondFaceEvidence, deg: number): SecondFaceEvidence => {
  const r = (deg * Math.PI) / 180;
  return { ...f, landmarks: f.landmarks.map((p) => ({ x: 50 + (p.x - 50) * Math.cos(r) - (p.y - 50) * Math.sin(r), y: 50 + (p.x - 50) * Math.sin(r) + (p.y - 50) * Math.cos(r) })) };
};
const scaled = (f: SecondFaceEvidence, s: number, dx = 0, dy = 0): SecondFaceEvidence => ({
  ...f,
  box: { x: f.box.x * s + dx, y: f.box.y * s + dy, width: f.box.width * s, height: f.box.height * s },
  landmarks: f.landmarks.map((p) => ({ x: p.x * s + dx, y: p.y * s + dy })),
});

test('a second face counts when its landmarks sit like a face in its box, at any place, size from 20 px, or lean', () => {
  assert.equal(face().landmarks.length, 68);
  assert.deepEqual(notASecondFace(face(), []), []);
  assert.deepEqual(notASecondFace(scaled(face(), 0.45, 600, 150), [{ x: 100, y: 100, width: 200, height: 220 }]), [], 'a 41-pixel face beside a large one');
  assert.deepEqual(notASecondFace(turned(face(), 15), []), [], 'a leaning head');
  assert.deepEqual(notASecondFace(turned(face(), -15), []), []);
});

test('a box the landmarks do not fill like a face, or fill with something else, is not a second face', () => {
  const f = face();
  // The landmark net squeezed its points into a corner of the box (a pattern, a shoulder).
  const squeezed = { ...f, landmarks: f.landmarks.map((p) => ({ x: 5 + (p.x - 5) * 0.4, y: 2 + (p.y - 2) * 0.4 })) };
  assert.ok(notASecondFace(squeezed, []).includes('landmark extent'));
  // The points are a face beside the box, not in it.
  const beside = { ...f, landmarks: f.landmarks.map((p) => ({ x: p.x + 40, y: p.y })) };
  assert.ok(notASecondFace(beside, []).includes('landmark centre'));
  // Mirrored top to bottom: the mouth and chin above the eye line.
  const mirrored = { ...f, landmarks: f.landmarks.map((p) => ({ x: p.x, y: 100 - p.y })) };
  assert.ok(notASecondFace(mirrored, []).includes('nose, mouth, chin'));
  // Both eyes on one spot.
  const oneEye = { ...f, landmarks: f.landmarks.map((p, i) => (i >= 42 && i < 48 ? f.landmarks[i - 6]! : p)) };
  assert.ok(notASecondFace(oneEye, []).includes('eye span'));
  // The nose outside the eyes, the face drawn sideways.
  const noseOut = { ...f, landmarks: f.landmarks.map((p, i) => (i === 30 ? { x: 95, y: p.y } : p)) };
  assert.ok(notASecondFace(noseOut, []).includes('nose beside the eyes'));
  assert.deepEqual(notASecondFace({ ...f, landmarks: f.landmarks.slice(0, 60) }, []), ['landmarks']);
});

test('a second face must be one of its own: its size, its sharpness, and not inside another face', () => {
  assert.deepEqual(notASecondFace(scaled(face(), 0.15), []), ['size']);
  assert.deepEqual(notASecondFace({ ...face(), sharpness: 12 }, []), ['sharpness']);
  const big: Box = { x: -100, y: -100, width: 400, height: 400 };
  assert.deepEqual(notASecondFace(face(), [big]), ['inside another face']);
});

test('the face others are judged beside is the most confident of a countable size', () => {
  const tiny = { box: { x: 7, y: 102, width: 12, height: 16 }, score: 0.96 };
  const real = { box: { x: 16, y: 0, width: 129, height: 140 }, score: 0.959 };
  const other = { box: { x: 300, y: 0, width: 60, height: 70 }, score: 0.9 };
  assert.deepEqual(countingOrder([tiny, real, other]), [real, tiny, other]);
  assert.deepEqual(countingOrder([real, tiny, other]), [real, tiny, other]);
  assert.deepEqual(countingOrder([tiny]), [tiny], 'nothing countable: the order stays');
  assert.deepEqual(countingOrder([]), []);
});

test('beside a counted face, a first-pass candidate gets a look when it is small on the detector canvas, from 0.15', () => {
  const at = (width: number, height: number, score = 0.3) => ({ box: { x: 500, y: 150, width, height }, score });
  // 48 px wide in an 854-wide frame: 29 on the canvas.
  assert.equal(smallCandidate(at(48, 64), 854), true);
  assert.equal(smallCandidate(at(48, 64, 0.16), 854), true);
  assert.equal(smallCandidate(at(48, 64, 0.14), 854), false, 'under 0.15');
  assert.equal(smallCandidate(at(72, 90), 854), false, '43 on the canvas: the detector saw what it could');
  assert.equal(smallCandidate(at(14, 18), 854), false, 'smaller than any second face counted');
  assert.equal(smallCandidate(at(30, 40), 150), false, 'a head shot is grown to the canvas');
});

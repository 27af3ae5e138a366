import { test } from 'node:test';
import assert from 'node:assert/strict';
import { descriptorDistance, estimatePose, landmarkShift, normalizeLandmarks, type Point } from '../../shared/face/geometry.ts';
import { brightness, qualityReasons, resampleRegion, sharpness, toGray, type QualityBounds } from '../../shared/face/quality.ts';
import { decideEnrolment } from '../../shared/face/enrolment.ts';
import { decideVerification } from '../../shared/face/verification.ts';
import { calibratedConfidence } from '../../shared/face/calibration.ts';
import { decodeDescriptor, encodeDescriptor } from '../../db/descriptor.ts';

/** A synthetic frontal face in the 68-point layout, optionally rotated in the image plane. */
function frontalFace(rollDeg = 0, noseShift = 0): Point[] {
  const pts: Point[] = Array.from({ length: 68 }, () => ({ x: 50, y: 50 }));
  for (let i = 0; i <= 16; i++) pts[i] = { x: 10 + i * 5, y: 40 + Math.sin((i / 16) * Math.PI) * 50 };
  pts[8] = { x: 50, y: 100 };
  for (let i = 36; i < 42; i++) pts[i] = { x: 30 + (i - 36), y: 40 };
  for (let i = 42; i < 48; i++) pts[i] = { x: 65 + (i - 42), y: 40 };
  pts[30] = { x: 50 + noseShift, y: 64 };
  const r = (rollDeg * Math.PI) / 180;
  return pts.map((p) => ({ x: 50 + (p.x - 50) * Math.cos(r) - (p.y - 50) * Math.sin(r), y: 50 + (p.x - 50) * Math.sin(r) + (p.y - 50) * Math.cos(r) }));
}

test('pose: a frontal face reads near zero; roll follows the eye line; yaw follows the nose', () => {
  const p = estimatePose(frontalFace());
  assert.ok(Math.abs(p.roll) < 1 && Math.abs(p.yaw) < 3 && Math.abs(p.pitch) < 10, JSON.stringify(p));
  assert.ok(Math.abs(estimatePose(frontalFace(20)).roll - 20) < 1);
  assert.ok(Math.abs(estimatePose(frontalFace(20)).yaw) < 3, 'a rolled head does not look turned');
  assert.ok(estimatePose(frontalFace(0, 25)).yaw > 30, 'nose near one jaw side means a turned head');
  assert.throws(() => estimatePose([]), /68 landmarks/);
});

test('descriptor distance, and its storage round trip', () => {
  assert.equal(descriptorDistance([0, 0], [3, 4]), 5);
  assert.throws(() => descriptorDistance([1], [1, 2]), /lengths differ/);
  const d = Float32Array.from({ length: 128 }, (_, i) => Math.sin(i) / 7);
  const bytes = encodeDescriptor(d);
  assert.equal(bytes.length, 512);
  assert.deepEqual(decodeDescriptor(bytes), d);
});

test('normalised landmarks do not change when the same face moves or scales in the frame', () => {
  const a = frontalFace();
  const box = { x: 10, y: 30, width: 80, height: 80 };
  const moved = a.map((p) => ({ x: p.x * 2 + 40, y: p.y * 2 + 10 }));
  const movedBox = { x: 60, y: 70, width: 160, height: 160 };
  assert.ok(landmarkShift(normalizeLandmarks(a, box), normalizeLandmarks(moved, movedBox)) < 1e-3);
  assert.ok(landmarkShift(normalizeLandmarks(a, box), normalizeLandmarks(frontalFace(15), box)) > 0.02);
});

test('brightness and sharpness: darker reads lower, blur reads lower', () => {
  const w = 64;
  const h = 64;
  const checker = new Uint8Array(w * h * 3);
  const smooth = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const v = (x >> 2) % 2 === (y >> 2) % 2 ? 220 : 40;
    checker.fill(v, (y * w + x) * 3, (y * w + x) * 3 + 3);
    smooth.fill(60 + x, (y * w + x) * 3, (y * w + x) * 3 + 3);
  }
  const box = { x: 0, y: 0, width: w, height: h };
  const sharpRegion = resampleRegion(toGray(checker, w, h), box, 32);
  const smoothRegion = resampleRegion(toGray(smooth, w, h), box, 32);
  assert.ok(sharpness(sharpRegion, 32) > 100 * Math.max(1, sharpness(smoothRegion, 32)));
  assert.ok(Math.abs(brightness(sharpRegion) - 130) < 2);
  assert.ok(Math.abs(brightness(smoothRegion) - 91.5) < 2);
});

const BOUNDS: QualityBounds = { minFaceSize: 48, minScore: 0.8, minBrightness: 50, maxBrightness: 225, minSharpness: 40, maxYaw: 40, maxPitch: 30, maxRoll: 35 };
const good = { sizePx: 150, score: 0.99, brightness: 130, sharpness: 300, pose: { yaw: 5, pitch: 2, roll: 1 } };

test('the quality gate names every bound a face misses', () => {
  assert.deepEqual(qualityReasons(good, BOUNDS), []);
  const bad = qualityReasons({ sizePx: 30, score: 0.5, brightness: 20, sharpness: 10, pose: { yaw: -50, pitch: 40, roll: 60 } }, BOUNDS);
  assert.deepEqual(bad.map((r) => r.check), ['face_size', 'score', 'brightness', 'sharpness', 'yaw', 'pitch', 'roll']);
  assert.match(bad[2]!.message, /too dark/);
  assert.deepEqual(qualityReasons({ ...good, brightness: 240 }, BOUNDS).map((r) => [r.check, r.max]), [['brightness', 225]]);
});

test('enrolment: exactly one face, within bounds', () => {
  const face = { quality: good, descriptor: new Float32Array(128), box: { x: 0, y: 0, width: 1, height: 1 }, score: 1, landmarks: [] };
  assert.equal(decideEnrolment({ faces: [] }, BOUNDS).result, 'NO_FACES_FOUND');
  assert.equal(decideEnrolment({ faces: [face, face] }, BOUNDS).result, 'MULTIPLE_FACES');
  assert.equal(decideEnrolment({ faces: [face] }, BOUNDS).result, 'SUCCESS');
  const dark = decideEnrolment({ faces: [{ ...face, quality: { ...good, brightness: 10 } }] }, BOUNDS);
  assert.equal(dark.result, 'LOW_QUALITY');
  assert.equal(dark.face, undefined);
  assert.equal(dark.reasons[0]!.check, 'brightness');
});

test('verification: the closest face decides, against the threshold', () => {
  const e = [0, 0, 0];
  const near = { descriptor: [0.3, 0, 0] };
  const far = { descriptor: [0.9, 0, 0] };
  assert.deepEqual(decideVerification(e, [], 0.6), { result: 'NO_FACES_FOUND', distance: null, bestFace: null });
  assert.deepEqual(decideVerification(e, [near], 0.6), { result: 'SUCCESS', distance: 0.3, bestFace: 0 });
  assert.deepEqual(decideVerification(e, [far], 0.6), { result: 'UNKNOWN_PERSON', distance: 0.9, bestFace: 0 });
  assert.deepEqual(decideVerification(e, [far, near], 0.6), { result: 'SUCCESS_MULTIPLE_FACES', distance: 0.3, bestFace: 1 });
  assert.deepEqual(decideVerification(e, [far, far], 0.6).result, 'UNKNOWN_MULTIPLE_FACES');
  assert.equal(decideVerification(e, [{ descriptor: [0.6, 0, 0] }], 0.6).result, 'SUCCESS', 'at the threshold is a match');
});

test('calibrated confidence is in [0, 1] and falls as the distance grows', () => {
  let last = 1.01;
  for (let d = 0; d <= 1.5; d += 0.05) {
    const c = calibratedConfidence(d);
    assert.ok(c >= 0 && c <= 1);
    assert.ok(c <= last);
    last = c;
  }
  assert.ok(calibratedConfidence(0.3) > 0.95);
  assert.ok(calibratedConfidence(0.9) < 0.05);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CHIP_POINTS, faceChipCrop, faceChipDetails, fitSimilarity, paddedSquareCrop, templatePoint } from '../../shared/face/face-chip.ts';
import type { Point } from '../../shared/face/geometry.ts';
import { applyAffine, invertAffine } from '../../shared/face/sampler.ts';

const close = (a: number, b: number, eps = 1e-9) => assert.ok(Math.abs(a - b) < eps, `${a} ≉ ${b}`);

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
  const onLook = paddedSquareCrop({ x: -10, y: 5, width: 50, height: 50 }, look, 100, 100, 112, { value: 128 })!;
  assert.deepEqual(onLook.map, { a: 50 / 112, b: 0, c: -10, d: 0, e: 50 / 112, f: 5 });
  assert.deepEqual(onLook.valid, { x: 0, y: 5, width: 40, height: 50 });
  assert.deepEqual(onLook.border, { value: 128 });
});

test('the similarity fit recovers a known scale, rotation and translation', () => {
  const from = [
    { x: 0, y: 0 },
    { x: 10, y: 3 },
    { x: -4, y: 8 },
    { x: 7, y: -6 },
  ];
  const angle = 0.4;
  const s = 2.5;
  const to = from.map((p) => ({ x: s * (Math.cos(angle) * p.x - Math.sin(angle) * p.y) + 30, y: s * (Math.sin(angle) * p.x + Math.cos(angle) * p.y) - 12 }));
  const t = fitSimilarity(from, to);
  close(Math.hypot(t.a, t.b), s);
  close(Math.atan2(t.b, t.a), angle);
  close(t.tx, 30);
  close(t.ty, -12);
  assert.throws(() => fitSimilarity([{ x: 1, y: 1 }], [{ x: 0, y: 0 }]), RangeError);
});

/** Landmarks exactly on dlib's template, rotated by `angle` and scaled by `s` about the chip's centre, then moved. */
function onTemplate(angle: number, s: number, dx: number, dy: number): Point[] {
  return Array.from({ length: 68 }, (_, i) => {
    const p = i >= 17 ? templatePoint(i, 150, 0.25) : { x: 75, y: 75 };
    const x = p.x - 75;
    const y = p.y - 75;
    return { x: s * (Math.cos(angle) * x - Math.sin(angle) * y) + 75 + dx, y: s * (Math.sin(angle) * x + Math.cos(angle) * y) + 75 + dy };
  });
}

test("dlib's chip: landmarks on the template give the chip itself; a tilted, larger face gives its angle and scale", () => {
  assert.equal(CHIP_POINTS.length, 33);
  const level = faceChipDetails(onTemplate(0, 1, 0, 0));
  close(level.angle, 0);
  close(level.scale, 1);
  close(level.centre.x, 75);
  close(level.centre.y, 75);
  const tilted = faceChipDetails(onTemplate(Math.PI / 6, 3, 200, 40));
  close(tilted.angle, Math.PI / 6);
  close(tilted.scale, 3);
  close(tilted.centre.x, 275);
  close(tilted.centre.y, 115);
});

test("dlib's chip map: chip pixels 0 and size − 1 on the square's edges, each landmark back on the template", () => {
  const landmarks = onTemplate(-0.5, 4, 300, 260);
  const chip = faceChipDetails(landmarks);
  const crop = faceChipCrop(chip, 1000, 800);
  const side = 150 * chip.scale;
  const corner = applyAffine(crop.map, { x: 0, y: 0 });
  close(corner.x, chip.centre.x + Math.cos(-0.5) * (-side / 2) - Math.sin(-0.5) * (-side / 2), 1e-6);
  close(corner.y, chip.centre.y + Math.sin(-0.5) * (-side / 2) + Math.cos(-0.5) * (-side / 2), 1e-6);
  const toChip = invertAffine(crop.map);
  for (const i of CHIP_POINTS) {
    const p = applyAffine(toChip, landmarks[i]!);
    const t = templatePoint(i, 150, 0.25);
    // dlib spreads size·scale over size − 1 pixel steps.
    close(p.x, (t.x * 149) / 150, 1e-6);
    close(p.y, (t.y * 149) / 150, 1e-6);
  }
  assert.equal(crop.border, 'edge');
});

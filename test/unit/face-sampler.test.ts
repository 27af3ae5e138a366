import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyAffine, invertAffine, sampleAffine, sampleShrinking, shrinkBlocks, type RgbImage } from '../../shared/face/sampler.ts';

const close = (a: number, b: number, eps = 1e-6) => assert.ok(Math.abs(a - b) < eps, `${a} ≉ ${b}`);

/** A w×h image whose red is 10·x, green 10·y, blue constant 7. */
function ramp(w: number, h: number): RgbImage {
  const rgb = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      rgb.set([10 * x, 10 * y, 7], (y * w + x) * 3);
    }
  }
  return { rgb, width: w, height: h };
}

const at = (out: Float32Array, width: number, u: number, v: number) => Array.from(out.subarray((v * width + u) * 3, (v * width + u) * 3 + 3));

test('the identity map copies the image; integer points are pixel centres', () => {
  const src = ramp(4, 3);
  const out = sampleAffine(src, 4, 3, { a: 1, b: 0, c: 0, d: 0, e: 1, f: 0 }, { border: { value: 0 } });
  assert.deepEqual(Array.from(out), Array.from(src.rgb));
});

test('between pixels the sample is bilinear', () => {
  const src = ramp(4, 4);
  // Output pixel (0, 0) reads image point (1.25, 2.5).
  const out = sampleAffine(src, 1, 1, { a: 1, b: 0, c: 1.25, d: 0, e: 1, f: 2.5 }, { border: { value: 0 } });
  assert.deepEqual(at(out, 1, 0, 0), [12.5, 25, 7]);
});

test('outside the valid pixels: a constant, the nearest edge pixel, or the image mirrored', () => {
  const src = ramp(4, 1);
  const row = (border: Parameters<typeof sampleAffine>[4]['border']) =>
    Array.from(sampleAffine(src, 12, 1, { a: 1, b: 0, c: -4, d: 0, e: 1, f: 0 }, { border })).filter((_, i) => i % 3 === 0);
  assert.deepEqual(row({ value: 128 }), [128, 128, 128, 128, 0, 10, 20, 30, 128, 128, 128, 128]);
  assert.deepEqual(row('edge'), [0, 0, 0, 0, 0, 10, 20, 30, 30, 30, 30, 30]);
  // Symmetric: the edge pixel repeats once, then the image runs backwards.
  assert.deepEqual(row('mirror'), [30, 20, 10, 0, 0, 10, 20, 30, 30, 20, 10, 0]);
});

test('a valid rectangle hides the rest of the image, as a crop would', () => {
  const src = ramp(6, 6);
  const out = sampleAffine(src, 6, 1, { a: 1, b: 0, c: 0, d: 0, e: 1, f: 2 }, { border: { value: 0 }, valid: { x: 2, y: 1, width: 3, height: 4 } });
  assert.deepEqual(Array.from(out).filter((_, i) => i % 3 === 0), [0, 0, 20, 30, 40, 0]);
  assert.throws(() => sampleAffine(src, 1, 1, { a: 1, b: 0, c: 0, d: 0, e: 1, f: 0 }, { border: 'edge', valid: { x: 4, y: 0, width: 3, height: 1 } }), RangeError);
});

test('taps clamped to a rectangle first reproduce tf.image.resizeBilinear at the far edge', () => {
  // Upscaling 3 pixels to 4 (corners not aligned): output 3 reads 2.25, whose right tap is clamped to pixel 2.
  const src = ramp(3, 1);
  const out = sampleAffine(src, 4, 1, { a: 0.75, b: 0, c: 0, d: 0, e: 1, f: 0 }, { border: { value: 0 }, clampTo: { x: 0, y: 0, width: 3, height: 1 } });
  assert.deepEqual(Array.from(out).filter((_, i) => i % 3 === 0), [0, 7.5, 15, 20]);
});

test('a rotation samples the rotated image', () => {
  const src = ramp(5, 5);
  // 90° about the centre (2, 2): output (u, v) reads image (4 − v, u).
  const out = sampleAffine(src, 5, 5, { a: 0, b: -1, c: 4, d: 1, e: 0, f: 0 }, { border: { value: 0 } });
  assert.deepEqual(at(out, 5, 1, 0), [40, 10, 7]);
  assert.deepEqual(at(out, 5, 0, 3), [10, 0, 7]);
});

test('inverse maps', () => {
  const m = { a: 2 * Math.cos(0.3), b: -2 * Math.sin(0.3), c: 40, d: 2 * Math.sin(0.3), e: 2 * Math.cos(0.3), f: -7 };
  const inv = invertAffine(m);
  const p = applyAffine(inv, applyAffine(m, { x: 3, y: -11 }));
  close(p.x, 3);
  close(p.y, -11);
  assert.throws(() => invertAffine({ a: 1, b: 2, c: 0, d: 2, e: 4, f: 0 }), RangeError);
});

test('the rotated and the axis-aligned paths sample alike', () => {
  const src = ramp(9, 7);
  for (const border of [{ value: 50 }, 'edge', 'mirror'] as const) {
    const axis = sampleAffine(src, 6, 5, { a: 1.7, b: 0, c: -3.2, d: 0, e: 1.3, f: -1.1 }, { border });
    const rotated = sampleAffine(src, 6, 5, { a: 1.7, b: 1e-12, c: -3.2, d: 1e-12, e: 1.3, f: -1.1 }, { border });
    axis.forEach((v, i) => close(v, rotated[i]!, 1e-4));
  }
});

test('shrinking by blocks: each block is the mean of its pixels, and a map carried over lands on the same image points', () => {
  const src = ramp(8, 6);
  const small = shrinkBlocks(src, { x: 2, y: 1, width: 6, height: 4 }, 2);
  assert.equal(small.image.width, 3);
  assert.equal(small.image.height, 2);
  // Block (0, 0) holds x 2–3, y 1–2: red 25 (rounded from 25), green 15.
  assert.deepEqual(Array.from(small.image.rgb.subarray(0, 3)), [25, 15, 7]);
  // A linear ramp sampled through the carried map reads what the image itself gives.
  const map = { a: 2.2, b: 0.3, c: 2.6, d: -0.4, e: 2.1, f: 2.0 };
  const direct = sampleAffine(src, 2, 2, map, { border: 'edge' });
  const whole = shrinkBlocks(src, { x: 0, y: 0, width: 8, height: 6 }, 2);
  const viaSmall = sampleAffine(whole.image, 2, 2, whole.map(map), { border: 'edge' });
  direct.forEach((v, i) => close(v, viaSmall[i]!, 0.6));
});

test('a chip that shrinks the image several times reads the mean of a fine pattern, not one of its colours', () => {
  const w = 64;
  const rgb = new Uint8Array(w * w * 3);
  for (let y = 0; y < w; y++) for (let x = 0; x < w; x++) rgb.fill((x + y) % 2 ? 200 : 0, (y * w + x) * 3, (y * w + x) * 3 + 3);
  const map = { a: 4, b: 0, c: 14, d: 0, e: 4, f: 14 };
  const plain = sampleAffine({ rgb, width: w, height: w }, 8, 8, map, { border: 'edge' });
  const shrunk = sampleShrinking({ rgb, width: w, height: w }, 8, 8, map, 'edge');
  for (const v of plain) assert.equal(v, 0, 'plain bilinear hits one colour of the pattern');
  for (const v of shrunk) close(v, 100, 1e-3);
  // Barely shrinking: sampled as it is.
  const near = { a: 1.5, b: 0, c: 3, d: 0, e: 1.5, f: 3 };
  assert.deepEqual(sampleShrinking({ rgb, width: w, height: w }, 8, 8, near, 'edge'), sampleAffine({ rgb, width: w, height: w }, 8, 8, near, { border: 'edge' }));
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import sharp from 'sharp';
import type * as Tfjs from '@tensorflow/tfjs';
import { FaceEngine } from '../../shared/face/engine.ts';
import { featureGrids, installFusedSsd, SMALL_CANVAS, type SsdInput, type SsdNet, type SsdOutput } from '../../shared/face/fused-ssd.ts';
import { faceApiNets, type FaceApiNets } from '../../shared/face/face-nets.ts';
import { confirmingDetection } from '../../shared/face/looks.ts';
import { cropFace, nonFaceImages, samplePhoto } from '../helpers/face-images.ts';

// The engine loads face-api's wasm build; this is the same module instance (require cache).
const require = createRequire(import.meta.url);
interface Detection {
  score: number;
  box: { x: number; y: number; width: number; height: number };
}
const faceapi = require('@vladmandic/face-api/dist/face-api.node-wasm.js') as {
  tf: typeof Tfjs;
  nets: { ssdMobilenetv1: SsdNet & { locateFaces(t: Tfjs.Tensor3D, o: unknown): Promise<Detection[]> } };
  SsdMobilenetv1Options: new (o: { minConfidence: number; maxResults: number }) => unknown;
};
const { tf } = faceapi;
const net = faceapi.nets.ssdMobilenetv1;
const stockForward = Object.getPrototypeOf(net).forwardInput as SsdNet['forwardInput'];

async function detect(bytes: Buffer, pass: 'fused' | 'stock'): Promise<Detection[]> {
  const { data, info } = await sharp(bytes).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const input = tf.tensor3d(new Uint8Array(data), [info.height, info.width, 3], 'int32');
  const fused = net.forwardInput;
  if (pass === 'stock') net.forwardInput = stockForward;
  try {
    // minConfidence 0.2: also compare the weak candidates that decide a second look.
    return await net.locateFaces(input, new faceapi.SsdMobilenetv1Options({ minConfidence: 0.2, maxResults: 50 }));
  } finally {
    net.forwardInput = fused;
    input.dispose();
  }
}

test('the engine runs the fused detector, and it finds what face-api finds on photos, crops and non-faces', async () => {
  const { engine } = await FaceEngine.load('wasm');
  assert.equal(engine.info.detector, 'fused');
  const images: Buffer[] = [];
  for (const n of [1, 2, 3, 4, 5, 6] as const) images.push(samplePhoto(n));
  for (const f of (await engine.analyze(samplePhoto(2))).faces) images.push(await cropFace(samplePhoto(2), f.box, 0.5), await cropFace(samplePhoto(2), f.box, 0.05, { size: 110 }));
  images.push(...Object.values(await nonFaceImages()));
  let compared = 0;
  for (const [i, bytes] of images.entries()) {
    const [fused, stock] = [await detect(bytes, 'fused'), await detect(bytes, 'stock')];
    assert.equal(fused.length, stock.length, `image ${i}: detections`);
    for (const [k, d] of fused.entries()) {
      const s = stock[k]!;
      assert.ok(Math.abs(d.score - s.score) < 1e-4, `image ${i} face ${k}: score ${d.score} vs ${s.score}`);
      for (const key of ['x', 'y', 'width', 'height'] as const) assert.ok(Math.abs(d.box[key] - s.box[key]) < 0.05, `image ${i} face ${k}: box ${key}`);
      compared++;
    }
  }
  assert.ok(compared >= 20, `compared ${compared} faces`);
});

test('the fused pass leaves no tensors behind', async () => {
  await FaceEngine.load('wasm');
  const photo = samplePhoto(3);
  await detect(photo, 'fused');
  const before = tf.memory().numTensors;
  for (let i = 0; i < 3; i++) await detect(photo, 'fused');
  assert.equal(tf.memory().numTensors, before);
});

test("face-api's own pass stays when the fused one would answer differently", async () => {
  await FaceEngine.load('wasm');
  // A network whose answers are off by 0.01: as if face-api had changed under us.
  const shifted: SsdNet = {
    params: net.params,
    forwardInput(input: SsdInput): SsdOutput {
      const out = stockForward.call(net, input);
      const scores = out.scores.map((s) => tf.tidy(() => tf.add(s, 0.01) as Tfjs.Tensor1D));
      tf.dispose(out.scores);
      return { boxes: out.boxes, scores };
    },
  };
  const own = shifted.forwardInput;
  const before = tf.memory().numTensors;
  const report = installFusedSsd(tf, shifted);
  assert.equal(report.installed, false);
  assert.ok(Math.abs(report.maxDifference - 0.01) < 1e-3, String(report.maxDifference));
  assert.equal(shifted.forwardInput, own);
  assert.equal(tf.memory().numTensors, before, 'the folded weights are released');
});

test('fusing needs loaded weights and the expected layers', () => {
  assert.throws(() => installFusedSsd(tf, { params: undefined, forwardInput: stockForward }), /load the SSD/);
  const params = net.params!;
  const broken = { ...params, prediction_layer: { ...params.prediction_layer, box_predictor_5: undefined } } as unknown as SsdNet['params'];
  assert.throws(() => installFusedSsd(tf, { params: broken, forwardInput: stockForward }), /expected layers/);
  // A layer missing half-way down: refused before any weight is folded.
  const before = tf.memory().numTensors;
  const gap = { ...params, mobilenetv1: { ...params.mobilenetv1, conv_7: undefined } } as unknown as SsdNet['params'];
  assert.throws(() => installFusedSsd(tf, { params: gap, forwardInput: stockForward }), /expected layers/);
  assert.equal(tf.memory().numTensors, before);
});

/** A square canvas of `size`: the image fitted in, grey around it, as float HWC 0–255. */
async function canvasOf(bytes: Buffer, size: number): Promise<Float32Array> {
  const raw = await sharp(bytes).removeAlpha().resize({ width: size, height: size, fit: 'contain', background: { r: 128, g: 128, b: 128 } }).raw().toBuffer();
  return Float32Array.from(raw);
}

test('the small canvas (256) sees the faces the full one (512) sees in a look, at the same place', async () => {
  assert.deepEqual(featureGrids(512), [32, 16, 8, 4, 2, 1]);
  assert.deepEqual(featureGrids(SMALL_CANVAS), [16, 8, 4, 2, 1, 1]);
  const { engine } = await FaceEngine.load('wasm');
  const nets = faceApiNets(tf, faceapi.nets as unknown as FaceApiNets, SMALL_CANVAS);
  // Looks as the search makes them: a region of 2.2× a face of the sample photos, the face
  // about 45% of it, and the photos' neighbours cut at its edges.
  const looks: Buffer[] = [];
  for (const n of [1, 2, 3, 4, 5, 6] as const) {
    for (const f of (await engine.analyze(samplePhoto(n))).faces) looks.push(await cropFace(samplePhoto(n), f.box, 0.6));
  }
  const relative = (d: { box: { x: number; y: number; width: number; height: number } }, size: number) => ({ x: d.box.x / size, y: d.box.y / size, width: d.box.width / size, height: d.box.height / size });
  let compared = 0;
  for (const [i, bytes] of looks.entries()) {
    const full = await nets.detect(await canvasOf(bytes, 512), 0.5, 512);
    const small = await nets.detect(await canvasOf(bytes, SMALL_CANVAS), 0.5, SMALL_CANVAS);
    // The face the look is centred on, as confirmingDetection picks it.
    const expected = { x: 0, y: 0, width: 1, height: 1 };
    const face = confirmingDetection(full.map((d) => ({ ...d, box: relative(d, 512) })), { x: 0, y: 0, side: 1 }, expected, 0);
    if (!face) continue; // a face too small in its photo to be seen at all
    const match = confirmingDetection(small.map((d) => ({ ...d, box: relative(d, SMALL_CANVAS) })), { x: 0, y: 0, side: 1 }, face.box, 0.5);
    assert.ok(match, `look ${i}: the 256 canvas finds it at the same place (${JSON.stringify(small.map((d) => relative(d, SMALL_CANVAS)))})`);
    // A look keeps what it confirms from 0.5: a clear face at 512 is one at 256 (0.78–0.99 on these).
    if (face.score >= 0.9) assert.ok(match.score >= 0.7, `look ${i}: score ${match.score} on 256, ${face.score} on 512`);
    compared++;
  }
  assert.ok(compared >= 15, `compared ${compared} looks`);
  const before = tf.memory().numTensors;
  await nets.detect(await canvasOf(looks[0]!, SMALL_CANVAS), 0.5, SMALL_CANVAS);
  assert.equal(tf.memory().numTensors, before, 'the small pass leaves no tensors behind');
  await assert.rejects(nets.detect(new Float32Array(300 * 300 * 3), 0.5, 300), /square inputs of 512 or 256/);
});

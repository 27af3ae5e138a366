import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DETECTOR_SIZE, type Detection, type FaceNets } from '../../shared/face/face-nets.ts';
import { fillsFrame, paddedCanvasSize, searchFaces } from '../../shared/face/face-search.ts';

/** A detector that sees a face only on the canvases listed (0: the first pass, 1: the next…), centred on the canvas. */
function detectorSeeingOn(passes: number[]): FaceNets & { calls: number } {
  const nets = {
    calls: 0,
    async detect(): Promise<Detection[]> {
      const pass = nets.calls++;
      return passes.includes(pass) ? [{ box: { x: 206, y: 206, width: 100, height: 100 }, score: 0.95 }] : [];
    },
    landmarks: async () => [],
    descriptor: async () => new Float32Array(128),
    numTensors: () => 0,
    lookSize: DETECTOR_SIZE,
  };
  return nets;
}

const image = { rgb: new Uint8Array(150 * 150 * 3), width: 150, height: 150 };

test('with nothing found, the padded retry tries its canvases in turn and stops at the first that shows a face', async () => {
  const none = detectorSeeingOn([]);
  const missed = await searchFaces(image, none);
  assert.deepEqual(missed, { faces: [], looks: 2 });
  assert.equal(none.calls, 3);

  // A crop that is all face: only the wider canvas (3.5 × 150 = 525 px) shows a face.
  const wide = await searchFaces(image, detectorSeeingOn([2]));
  assert.equal(wide.looks, 2);
  assert.equal(wide.faces.length, 1);
  assert.deepEqual(wide.faces[0]!.look, { x: -187.5, y: -187.5, side: 525 });
  assert.equal(wide.faces[0]!.box.width, (100 * 525) / 512);

  // A tight head shot: the first canvas (1.8) finds it and the wider one is not tried.
  const tight = detectorSeeingOn([1, 2]);
  const found = await searchFaces(image, tight);
  assert.equal(found.looks, 1);
  assert.equal(found.faces[0]!.look!.side, 270);
  assert.equal(tight.calls, 2);
});

test('a face found by the first pass gets no padded retry; the canvases are an option', async () => {
  assert.equal((await searchFaces(image, detectorSeeingOn([0]))).looks, 0);
  const one = detectorSeeingOn([]);
  assert.equal((await searchFaces(image, one, { paddedFactors: [2.5] })).looks, 1);
  assert.equal((await searchFaces(image, detectorSeeingOn([]), { paddedRetry: false })).looks, 0);
});

/** A detector answering each pass (0: the first) with the boxes listed for it, in canvas pixels. */
function detectorAnswering(passes: Detection[][]): FaceNets & { calls: number } {
  const nets = {
    calls: 0,
    detect: async (): Promise<Detection[]> => passes[nets.calls++] ?? [],
    landmarks: async () => [],
    descriptor: async () => new Float32Array(128),
    numTensors: () => 0,
    lookSize: DETECTOR_SIZE,
  };
  return nets;
}

test('a face the first pass finds filling the frame is taken from the padded canvas that confirms it, else kept as found', async () => {
  // 480 of 512 canvas pixels on the first pass: 140.6 of the 150 image pixels.
  const whole = { box: { x: 10, y: 16, width: 480, height: 480 }, score: 0.97 };
  // The same face on the 1.8 canvas (270 image px): 141 image px about the middle.
  const padded = { box: { x: 123, y: 123, width: 267, height: 267 }, score: 0.99 };
  const confirmed = await searchFaces(image, detectorAnswering([[whole], [padded]]));
  assert.equal(confirmed.looks, 1);
  assert.equal(confirmed.faces.length, 1);
  assert.equal(confirmed.faces[0]!.look!.side, 270);
  assert.equal(confirmed.faces[0]!.score, 0.99);
  // Neither padded canvas sees it: the first pass's face stays.
  const kept = await searchFaces(image, detectorAnswering([[whole], [], []]));
  assert.equal(kept.looks, 2);
  assert.deepEqual(kept.faces.map((f) => f.look), [undefined]);
  assert.equal(kept.faces[0]!.score, 0.97);
  // A face of ordinary size in the frame gets no padded look.
  assert.equal((await searchFaces(image, detectorAnswering([[{ box: { x: 100, y: 100, width: 200, height: 200 }, score: 0.97 }]]))).looks, 0);
});

test('a face fills the frame from 0.8 of the image\'s longer side', () => {
  assert.equal(fillsFrame({ x: 0, y: 0, width: 120, height: 100 }, 150, 150), true);
  assert.equal(fillsFrame({ x: 0, y: 0, width: 119, height: 100 }, 150, 150), false);
  // A close-up portrait (the real photos' img32): its face fills the width, not the picture.
  assert.equal(fillsFrame({ x: 0, y: 0, width: 655, height: 869 }, 1000, 1500), false);
  assert.equal(fillsFrame({ x: 0, y: 0, width: 600, height: 1200 }, 1000, 1500), true);
});

/** A detector with a 256 look canvas answering each pass (0: the first) as listed, recording the canvas size of each. */
function detectorRecordingSizes(answers: Detection[][]): FaceNets & { sizes: number[] } {
  const sizes: number[] = [];
  return {
    sizes,
    detect: async (_canvas, _min, size = DETECTOR_SIZE) => (sizes.push(size), answers[sizes.length - 1] ?? []),
    landmarks: async () => [],
    descriptor: async () => new Float32Array(128),
    numTensors: () => 0,
    lookSize: 256,
  };
}

test('a second look around a doubtful face runs on the small canvas and its box comes back in image pixels', async () => {
  const wide = { rgb: new Uint8Array(640 * 480 * 3), width: 640, height: 480 };
  // First pass (512 canvas, 640 image px: 1.25 a pixel): a face of 80 canvas px at 0.7.
  const doubtful = { box: { x: 200, y: 160, width: 80, height: 80 }, score: 0.7 };
  // The look: 2.2 × 100 image px = 220 px over 256 canvas px; the face in its middle, 45% of it.
  const onLook = { box: { x: 70.4, y: 70.4, width: 115.2, height: 115.2 }, score: 0.98 };
  const nets = detectorRecordingSizes([[doubtful], [onLook]]);
  const found = await searchFaces(wide, nets);
  assert.deepEqual(nets.sizes, [DETECTOR_SIZE, 256]);
  assert.equal(found.looks, 1);
  assert.equal(found.faces.length, 1);
  assert.equal(found.faces[0]!.score, 0.98);
  // The look spans 190–410 px, 220/256 image px per canvas px.
  const box = found.faces[0]!.box;
  for (const [got, want] of [[box.x, 250.5], [box.y, 200.5], [box.width, 99], [box.height, 99]] as const) assert.ok(Math.abs(got - want) < 0.1, `${got} vs ${want}`);
});

test('a padded retry runs on the small canvas for a head shot or a face filling the frame, on 512 for a larger frame with nothing found', async () => {
  assert.equal(paddedCanvasSize(false, 150, 256), 256);
  assert.equal(paddedCanvasSize(false, DETECTOR_SIZE, 256), 256);
  assert.equal(paddedCanvasSize(false, DETECTOR_SIZE + 1, 256), DETECTOR_SIZE);
  assert.equal(paddedCanvasSize(true, 2000, 256), 256);

  const sizesOf = async (img: { rgb: Uint8Array; width: number; height: number }, answers: Detection[][]) => {
    const nets = detectorRecordingSizes(answers);
    const found = await searchFaces(img, nets);
    return { sizes: nets.sizes, found };
  };
  // A 150 px head shot with nothing found: both canvases small.
  assert.deepEqual((await sizesOf(image, [])).sizes, [DETECTOR_SIZE, 256, 256]);
  // A 854×480 still with nothing found: the padded canvases stay at 512.
  const still = { rgb: new Uint8Array(854 * 480 * 3), width: 854, height: 480 };
  assert.deepEqual((await sizesOf(still, [])).sizes, [DETECTOR_SIZE, DETECTOR_SIZE, DETECTOR_SIZE]);
  // The same still with a face filling it on the first pass: the canvas confirming it is small,
  // and its box comes back in image pixels (the 1.8 canvas spans 1537.2 image px over 256).
  const filling = { box: { x: 40, y: 40, width: 450, height: 450 }, score: 0.97 };
  const onCanvas = { box: { x: 60, y: 60, width: 136, height: 136 }, score: 0.99 };
  const { sizes, found } = await sizesOf(still, [[filling], [onCanvas]]);
  assert.deepEqual(sizes, [DETECTOR_SIZE, 256]);
  assert.equal(found.faces[0]!.score, 0.99);
  assert.ok(Math.abs(found.faces[0]!.box.width - (136 * 1537.2) / 256) < 0.01);
});

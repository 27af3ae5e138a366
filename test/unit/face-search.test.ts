import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Detection, FaceNets } from '../../shared/face/face-nets.ts';
import { searchFaces } from '../../shared/face/face-search.ts';

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

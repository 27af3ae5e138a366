import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decideAgainstGallery } from '../../shared/face/verification.ts';
import { suggestFromDistances, thresholdBounds } from '../../shared/gallery/threshold.ts';
import { rescore } from '../../shared/gallery/rescore.ts';

// Points on a line: the distance between [a] and [b] is |a − b|.
const at = (x: number) => ({ descriptor: [x, 0, 0] });

test('a probe face is judged by its nearest gallery face; the nearest probe face decides and names that gallery face', () => {
  assert.deepEqual(decideAgainstGallery([at(0), at(1)], [at(0.9)], 0.6), { result: 'SUCCESS', distance: 0.1, bestFace: 0, galleryFace: 1 });
  assert.deepEqual(decideAgainstGallery([at(0), at(1)], [at(3), at(0.45)], 0.6), { result: 'SUCCESS_MULTIPLE_FACES', distance: 0.45, bestFace: 1, galleryFace: 0 });
  assert.deepEqual(decideAgainstGallery([at(0)], [at(0.7)], 0.6), { result: 'UNKNOWN_PERSON', distance: 0.7, bestFace: 0, galleryFace: 0 });
  assert.equal(decideAgainstGallery([at(0)], [], 0.6).result, 'NO_FACES_FOUND');
});

test('a face closer to a not-this face than to the gallery is turned away; another face of the snapshot may still match', () => {
  const turned = decideAgainstGallery([at(0)], [at(0.5)], 0.6, [at(0.55)]);
  assert.equal(turned.result, 'UNKNOWN_PERSON');
  assert.deepEqual(turned.notThis, { face: 0, notThisFace: 0, distance: 0.05, galleryDistance: 0.5 });
  // Nearer the gallery than the not-this face: still the employee.
  assert.equal(decideAgainstGallery([at(0)], [at(0.2)], 0.6, [at(0.55)]).result, 'SUCCESS');
  // Two faces: the turned-away one does not hide the employee beside it.
  const two = decideAgainstGallery([at(0)], [at(0.5), at(-0.3)], 0.6, [at(0.52)]);
  assert.deepEqual([two.result, two.bestFace, two.notThis], ['SUCCESS_MULTIPLE_FACES', 1, undefined]);
  // A face that would not have matched anyway is no not-this case.
  assert.equal(decideAgainstGallery([at(0)], [at(0.9)], 0.6, [at(0.9)]).notThis, undefined);
});

test("an employee's threshold moves 0.15 tighter or 0.05 looser than the site's at most", () => {
  assert.deepEqual(thresholdBounds(0.6), { min: 0.45, max: 0.65 });
});

test('the suggestion stays at the site threshold without a face said not to be the employee, else sits just under the nearest one', () => {
  const genuine = Array.from({ length: 40 }, (_, i) => 0.3 + i * 0.005); // 0.300 … 0.495
  assert.equal(suggestFromDistances(genuine, [], 0.6).suggested, null);
  const s = suggestFromDistances(genuine, [0.52, 0.58], 0.6);
  assert.equal(s.suggested, 0.51);
  assert.equal(s.wouldReject, 0);
  assert.deepEqual([s.notThis, s.genuine.count], [{ count: 2, nearest: 0.52 }, 40]);
  const harsh = suggestFromDistances(genuine, [0.41], 0.6);
  assert.equal(harsh.suggested, 0.45, 'never under the bound');
  assert.equal(harsh.wouldReject, 0.225, 'and says what it costs: 9 of the 40 matches lie past 0.45');
  assert.equal(suggestFromDistances(genuine.slice(0, 5), [0.52], 0.6).suggested, null, 'too little history');
  assert.equal(suggestFromDistances(genuine, [0.7], 0.6).suggested, 0.6, 'already turned away at the site threshold');
});

test('rescore compares only faces of the gallery model and answers NO_TRAINING_IMAGE without a gallery', () => {
  const s = { id: 1, lanId: 'x', captureTime: new Date(0), status: 'Y', result: null, numFaces: 1, bestFace: 0, faces: [{ faceIndex: 0, box: null, descriptor: new Float32Array([0.2, 0, 0]), model: 'm' }] };
  assert.equal(rescore(s, 'm', [at(0)], [], 0.6)?.result, 'SUCCESS');
  assert.equal(rescore(s, 'other', [at(0)], [], 0.6), undefined);
  assert.equal(rescore({ ...s, faces: [{ ...s.faces[0]!, model: null }] }, 'm', [at(0)], [], 0.6), undefined);
  assert.equal(rescore(s, 'm', [], [], 0.6)?.result, 'NO_TRAINING_IMAGE');
});

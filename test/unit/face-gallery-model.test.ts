import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { GalleryLookup } from '../../db/repositories/facestreaming.repository.ts';
import { galleryModels } from '../../services/facestreaming/gallery-model.ts';
import type { FaceAnalysis } from '../../shared/face/engine.ts';

const face = (v: number) => ({ descriptor: new Float32Array(128).fill(v) }) as FaceAnalysis['faces'][number];

function fakes(faces: () => FaceAnalysis['faces']) {
  const calls = { analyze: 0, read: 0 };
  const deps = {
    trainImages: { findTrainImage: async (id: number) => (calls.read++, { id, lanId: 'NA\\x', lanIdWeight: '', status: 'Y' as const, image: Buffer.from('photo') }) },
    faces: {
      info: { model: 'new' } as never,
      analyze: async () => (calls.analyze++, { faces: faces() }) as FaceAnalysis,
    },
  };
  return { deps, calls };
}

const gallery = (models: string[], pending = false, notThis: string[] = []): GalleryLookup => ({
  pending,
  threshold: null,
  kind: 'ready',
  faces: models.map((model, i) => ({ trainImgId: 7 + i, descriptor: new Float32Array(128), model })),
  notThis: notThis.map((model, i) => ({ streamImgId: 100 + i, faceIndex: 0, descriptor: new Float32Array(128), model })),
});

test("faces of this model are used as stored; another model's are replaced by their photo analysed again, once each", async () => {
  const { deps, calls } = fakes(() => [face(0.5)]);
  const models = galleryModels(deps);
  const same = gallery(['new', 'new']);
  assert.equal(await models.current(same), same);
  const first = await models.current(gallery(['new', 'old']));
  const again = await models.current(gallery(['new', 'old'], true));
  assert.equal(first.kind, 'ready');
  if (first.kind !== 'ready') return;
  assert.deepEqual(first.faces.map((f) => [f.trainImgId, f.model, f.descriptor[0]]), [[7, 'new', 0], [8, 'new', 0.5]]);
  assert.deepEqual(first.reencoded, [{ trainImgId: 8, from: 'old' }]);
  assert.equal(again.pending, true, "the lookup's own pending flag");
  assert.equal(calls.analyze, 1);
});

test('a face whose photo no longer shows one face leaves the gallery; with none left the gallery is unusable; a failed analysis is tried again', async () => {
  const some = await galleryModels(fakes(() => []).deps).current(gallery(['new', 'old']));
  assert.equal(some.kind, 'ready');
  assert.deepEqual(some.kind === 'ready' && some.faces.map((f) => f.trainImgId), [7]);
  assert.match(String(some.unusable?.[0]?.why), /^stored by old; new finds 0 faces/);
  const none = await galleryModels(fakes(() => []).deps).current(gallery(['old']));
  assert.equal(none.kind, 'failed');
  assert.match(String(none.kind === 'failed' ? none.result : ''), /^stored by old; new finds 0 faces/);
  let fail = true;
  const { deps, calls } = fakes(() => {
    if (fail) throw new Error('thread died');
    return [face(0.1)];
  });
  const models = galleryModels(deps);
  await assert.rejects(models.current(gallery(['old'])), /thread died/);
  fail = false;
  assert.equal((await models.current(gallery(['old']))).kind, 'ready');
  assert.equal(calls.analyze, 2);
});

test("a face said not to be the employee under another model is left out and counted", async () => {
  const r = await galleryModels(fakes(() => [face(0.5)]).deps).current(gallery(['new'], false, ['new', 'old']));
  assert.equal(r.kind === 'ready' && r.notThis.length, 1);
  assert.equal(r.notThisSkipped, 1);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { EnrolmentLookup } from '../../db/repositories/facestreaming.repository.ts';
import { enrolmentModels } from '../../services/facestreaming/enrolment-model.ts';
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

const ready = (model: string, pending = false): EnrolmentLookup => ({ pending, kind: 'ready', trainImgId: 7, descriptor: new Float32Array(128), model });

test('a descriptor of this model is used as stored; another model\'s is replaced by the photo analysed again, once', async () => {
  const { deps, calls } = fakes(() => [face(0.5)]);
  const models = enrolmentModels(deps);
  const same = ready('new');
  assert.equal(await models.current(same), same);
  const first = await models.current(ready('old'));
  const again = await models.current(ready('old', true));
  assert.equal(first.kind, 'ready');
  assert.equal(first.kind === 'ready' && first.descriptor[0], 0.5);
  assert.equal(first.kind === 'ready' && first.model, 'new');
  assert.equal(first.reencodedFrom, 'old');
  assert.equal(again.pending, true, "the lookup's own pending flag");
  assert.equal(calls.analyze, 1);
});

test('no single face in the photo for this model: the enrolment is unusable; a failed analysis is tried again', async () => {
  const none = await enrolmentModels(fakes(() => []).deps).current(ready('old'));
  assert.equal(none.kind, 'failed');
  assert.match(String(none.kind === 'failed' ? none.result : ''), /^stored by old; new finds 0 faces/);
  let fail = true;
  const { deps, calls } = fakes(() => {
    if (fail) throw new Error('thread died');
    return [face(0.1)];
  });
  const models = enrolmentModels(deps);
  await assert.rejects(models.current(ready('old')), /thread died/);
  fail = false;
  assert.equal((await models.current(ready('old'))).kind, 'ready');
  assert.equal(calls.analyze, 2);
});

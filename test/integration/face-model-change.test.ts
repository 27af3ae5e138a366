// A face model change (another network or another face chip) must never compare a new
// descriptor with one the old model stored: facestreaming analyses the enrolment photo again.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeDescriptor } from '../../db/descriptor.ts';
import { FaceEngine } from '../../shared/face/engine.ts';
import type { RunningApp } from '../../shared/app/run-services.ts';
import { createTestEnv, type TestEnv } from '../helpers/test-env.ts';
import { publishRaw, waitFor } from '../helpers/runtime-harness.ts';
import { cropFace, samplePhoto, sampleSubjects } from '../helpers/face-images.ts';
import { startFaceServices } from '../helpers/face-services.ts';

/** What the engine stored before issue 25 (face-api's unrotated crop). */
const OLD_MODEL = '@vladmandic/face-api@1.7.15/faceRecognitionNet';
let t: TestEnv;
let running: RunningApp;
let enrolment: Buffer;
let snapshot: Buffer;
let model: string;

before(async () => {
  t = await createTestEnv('facemodel', { FACE_WORKERS: '1', FACESTREAMING_CONCURRENCY: '2', FACETRAINING_CONCURRENCY: '2', VIGIL_RETRY_DELAYS: '500ms' });
  const { engine } = await FaceEngine.load('wasm');
  model = engine.info.model;
  const { subject } = await sampleSubjects(engine);
  enrolment = await cropFace(samplePhoto(6), subject, 0.5);
  snapshot = await cropFace(samplePhoto(6), { ...subject, x: subject.x + subject.width * 0.1 }, 1.2);
  running = await startFaceServices(t);
});
after(async () => {
  await running?.stop();
  await t.cleanup();
});

/** An enrolment processed by the services, then made to look as the old model stored it. */
async function oldEnrolment(lanId: string): Promise<number> {
  const db = t.database().db;
  const id = Number((await db.insertInto('train_img').values({ lan_id: lanId, image: enrolment }).executeTakeFirstOrThrow()).insertId);
  await publishRaw(`${t.prefix}facetraining`, [String(id)]);
  await waitFor('enrolled', async () => (await db.selectFrom('train_img').select('status').where('id', '=', id).executeTakeFirstOrThrow()).status === 'Y', 120_000, 200);
  const stored = await db.selectFrom('face_descriptor').select('model').where('train_img_id', '=', id).executeTakeFirstOrThrow();
  assert.equal(stored.model, model);
  // Far from any face: compared as it is, the snapshot would read UNKNOWN_PERSON.
  await db.updateTable('face_descriptor').set({ model: OLD_MODEL, descriptor: encodeDescriptor(new Float32Array(128).fill(0.3)) }).where('train_img_id', '=', id).execute();
  return id;
}

async function verdict(lanId: string): Promise<{ result: string | null; detail: Record<string, unknown> }> {
  const db = t.database().db;
  const id = Number((await db.insertInto('stream_img').values({ lan_id: lanId, image: snapshot, capture_time: new Date() }).executeTakeFirstOrThrow()).insertId);
  await publishRaw(`${t.prefix}facestreaming`, [String(id)]);
  await waitFor('judged', async () => ['Y', 'F'].includes((await db.selectFrom('stream_img').select('status').where('id', '=', id).executeTakeFirstOrThrow()).status), 120_000, 200);
  const row = await db.selectFrom('stream_img').select('result').where('id', '=', id).executeTakeFirstOrThrow();
  const attempt = await db.selectFrom('process_status').select('detail').where('image_type', '=', 'stream').where('image_id', '=', id).orderBy('id', 'desc').executeTakeFirstOrThrow();
  return { result: row.result, detail: JSON.parse(attempt.detail ?? '{}') as Record<string, unknown> };
}

test('an enrolment stored by another face model is analysed again from its photo, never compared as stored', async () => {
  const id = await oldEnrolment('NA\\oldmodel');
  const v = await verdict('NA\\oldmodel');
  assert.equal(v.result, 'SUCCESS');
  assert.equal(v.detail.enrolmentModel, model);
  assert.deepEqual(v.detail.galleryReencoded, [{ trainImgId: id, from: OLD_MODEL }]);
});

test('an old-model enrolment whose photo is gone is unusable, not compared', async () => {
  const id = await oldEnrolment('NA\\nophoto');
  await t.database().db.updateTable('train_img').set({ image: null }).where('id', '=', id).execute();
  const v = await verdict('NA\\nophoto');
  assert.equal(v.result, 'TRAINING_IMAGE_FAILED');
  assert.equal(String(v.detail.enrolmentResult), `stored by ${OLD_MODEL}; the enrolment photo is gone`);
  assert.deepEqual(v.detail.galleryUnusable, [{ trainImgId: id, why: `stored by ${OLD_MODEL}; the enrolment photo is gone` }]);
});

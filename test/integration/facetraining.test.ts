import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { FaceEngine } from '../../shared/face/engine.ts';
import { loadConfig } from '../../services/config.ts';
import type { RunningApp } from '../../shared/app/run-services.ts';
import { CODECS } from '../../shared/contract/messages.ts';
import type { Box } from '../../shared/face/geometry.ts';
import { service as facetraining } from '../../services/facetraining/main.ts';
import { createTestEnv, type TestEnv } from '../helpers/test-env.ts';
import { captureLogger, metricValue, publishRaw, queueDepth, startApp, waitFor } from '../helpers/runtime-harness.ts';
import { badImages, cropFace, nonFaceImages, samplePhoto, variants, sampleSubjects } from '../helpers/face-images.ts';

let t: TestEnv;
let running: RunningApp;
let subject: Box;
let other: Box;

before(async () => {
  t = await createTestEnv('facetraining', { FACE_WORKERS: '2', FACETRAINING_CONCURRENCY: '2' });
  // The test finds the faces in the sample photo with the same engine, to crop them.
  const { engine } = await FaceEngine.load('auto');
  ({ subject, other } = await sampleSubjects(engine));
  const { logger } = captureLogger('warn');
  running = await startApp(loadConfig(t.env), [facetraining], logger);
  await waitFor('the consumer', () => running.consumers[0]!.attached, 60_000);
});
after(async () => {
  await running?.stop();
  await t.cleanup();
});

async function enrol(lanId: string, image: Buffer | null): Promise<number> {
  const r = await t.database().db.insertInto('train_img').values({ lan_id: lanId, image }).executeTakeFirstOrThrow();
  return Number(r.insertId);
}

async function settled(ids: number[], timeoutMs = 120_000): Promise<void> {
  await waitFor(`${ids.length} train_img rows processed`, async () => {
    const rows = await t.database().db.selectFrom('train_img').select('status').where('id', 'in', ids).execute();
    return rows.every((r) => r.status === 'Y' || r.status === 'F');
  }, timeoutMs, 250);
}

test('each enrolment photo gets its exact result, with the reasons, a process_status row and (on success) a stored descriptor', async () => {
  const photo = samplePhoto(6);
  const loose = await cropFace(photo, subject, 0.5);
  const tight = await cropFace(photo, subject, 0);
  const cases: [name: string, image: Buffer | null, result: string, check?: string][] = [
    ['crop with margin', loose, 'SUCCESS'],
    ['tight crop, face touching the borders', tight, 'SUCCESS'],
    ['tight crop shrunk to 120 px', await variants.shrunk(tight, 120), 'SUCCESS'],
    ['another person, tight', await cropFace(photo, other, 0), 'SUCCESS'],
    ['grayscale', await variants.grayscale(loose), 'SUCCESS'],
    ['rotated with an EXIF orientation tag', await variants.exifRotated(loose), 'SUCCESS'],
    ['16-bit PNG', await variants.png16(loose), 'SUCCESS'],
    ['PNG with alpha', await variants.withAlpha(loose), 'SUCCESS'],
    ['WebP', await variants.webp(loose), 'SUCCESS'],
    ['TIFF', await variants.tiff(loose), 'SUCCESS'],
    ['darkened', await variants.darkened(loose, 0.25), 'LOW_QUALITY', 'brightness'],
    ['blurred', await variants.blurred(loose, 6), 'LOW_QUALITY', 'sharpness'],
    ['the group photo', photo, 'MULTIPLE_FACES'],
    ...Object.entries(await nonFaceImages()).map(([n, b]): [string, Buffer, string] => [`no face: ${n}`, b, 'NO_FACES_FOUND']),
    ...Object.entries(await badImages()).map(([n, b]): [string, Buffer, string] => [`bad bytes: ${n}`, b, 'INVALID_IMAGE']),
    ['no image at all (NULL)', null, 'INVALID_IMAGE'],
  ];
  // The subject's accepted crops are one employee's enrolments: as different employees they
  // would be DUPLICATE_IDENTITY of each other (facetraining-duplicates.test.ts).
  const lanOf = (i: number) => (cases[i]![2] === 'SUCCESS' && cases[i]![0] !== 'another person, tight' ? 'NA\\subject' : `NA\\case${i}`);
  const ids: number[] = [];
  for (const [i, [, image]] of cases.entries()) ids.push(await enrol(lanOf(i), image));
  await publishRaw(`${t.prefix}facetraining`, ids.map((id, i) => (i % 2 ? CODECS.facetraining.encode({ id }) : Buffer.from(String(id)))));
  await settled(ids);

  const db = t.database().db;
  for (const [i, [name, , expected, check]] of cases.entries()) {
    const row = await db.selectFrom('train_img').selectAll().where('id', '=', ids[i]!).executeTakeFirstOrThrow();
    assert.equal(row.result, expected, name);
    assert.equal(row.status, expected === 'SUCCESS' ? 'Y' : 'F', name);
    assert.ok(row.processed_time instanceof Date, `${name}: processed_time`);
    const attempts = await db.selectFrom('process_status').selectAll().where('image_type', '=', 'train').where('image_id', '=', ids[i]!).execute();
    assert.equal(attempts.length, 1, `${name}: one attempt`);
    const a = attempts[0]!;
    assert.deepEqual([a.status, a.result, a.attempt], [row.status, expected, 1], name);
    assert.ok(a.finished_at && a.worker, name);
    const detail = JSON.parse(a.detail!);
    const descriptor = await db.selectFrom('face_descriptor').selectAll().where('train_img_id', '=', ids[i]!).executeTakeFirst();
    if (expected === 'INVALID_IMAGE') {
      assert.equal(row.num_faces, null, name);
      assert.match(detail.reason, /image/, name);
    } else {
      assert.equal(row.num_faces, expected === 'MULTIPLE_FACES' ? 4 : expected === 'NO_FACES_FOUND' ? 0 : 1, name);
    }
    if (expected === 'SUCCESS') {
      assert.ok(descriptor, `${name}: descriptor stored`);
      assert.equal(descriptor!.descriptor.length, 512);
      // The network and the face chip that computed it: a change of either makes stored descriptors incomparable.
      assert.match(descriptor!.model, /^@vladmandic\/face-api@.*\/faceRecognitionNet\/dlib-chip-150-0\.2$/);
      assert.equal(descriptor!.lan_id, lanOf(i));
    } else {
      assert.equal(descriptor, undefined, `${name}: no descriptor`);
    }
    if (check) {
      assert.ok(detail.reasons.some((r: { check: string }) => r.check === check), `${name}: reason ${check} in ${a.detail}`);
      assert.equal(detail.faces.length, 1);
    }
  }
  for (const result of ['SUCCESS', 'LOW_QUALITY', 'INVALID_IMAGE', 'NO_FACES_FOUND', 'MULTIPLE_FACES']) {
    assert.equal(
      await metricValue(running.app.metrics, 'vigil_face_results_total', { type: 'train', result }),
      cases.filter(([, , r]) => r === result).length,
      `metric for ${result}`,
    );
  }
});

test('a redelivered, already processed id is acked without work; an unknown id is logged and acked', async () => {
  // The subject's own re-enrolment: another employee's would be DUPLICATE_IDENTITY, with no descriptor.
  const id = await enrol('NA\\subject', await cropFace(samplePhoto(6), subject, 0.5));
  await publishRaw(`${t.prefix}facetraining`, [String(id)]);
  await settled([id]);
  const before = await metricValue(running.app.metrics, 'vigil_messages_total', { service: 'facetraining', outcome: 'duplicate' });
  await publishRaw(`${t.prefix}facetraining`, [String(id), '{"id":987654}']);
  await waitFor('both acked', async () => (await queueDepth(`${t.prefix}facetraining`)) === 0 && running.consumers[0]!.inFlightCount === 0, 30_000);
  await waitFor('duplicate counted', async () => (await metricValue(running.app.metrics, 'vigil_messages_total', { service: 'facetraining', outcome: 'duplicate' })) === before + 1, 10_000);
  const attempts = await t.database().db.selectFrom('process_status').select('id').where('image_id', '=', id).where('image_type', '=', 'train').execute();
  assert.equal(attempts.length, 1);
  const descriptors = await t.database().db.selectFrom('face_descriptor').select('id').where('train_img_id', '=', id).execute();
  assert.equal(descriptors.length, 1);
  assert.equal(await queueDepth(`${t.prefix}facetraining.dlq`), 0);
});

test("one employee's enrolments are processed one at a time (the lock)", async () => {
  const img = await cropFace(samplePhoto(6), subject, 0.5);
  const ids = [];
  for (let i = 0; i < 4; i++) ids.push(await enrol('NA\\serial', img));
  await publishRaw(`${t.prefix}facetraining`, ids.map(String));
  await settled(ids);
  const spans = await t.database().db.selectFrom('process_status').select(['started_at', 'finished_at']).where('image_id', 'in', ids).where('image_type', '=', 'train').orderBy('started_at').execute();
  assert.equal(spans.length, 4);
  for (let i = 1; i < spans.length; i++) {
    assert.ok(spans[i]!.started_at.getTime() >= spans[i - 1]!.finished_at!.getTime(), 'attempts of one lan_id do not overlap');
  }
});

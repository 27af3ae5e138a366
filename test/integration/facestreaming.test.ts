import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { FaceEngine } from '../../shared/face/engine.ts';
import { calibratedConfidence } from '../../shared/face/calibration.ts';
import type { RunningApp } from '../../shared/app/run-services.ts';
import type { Box } from '../../shared/face/geometry.ts';
import { createTestEnv, type TestEnv } from '../helpers/test-env.ts';
import { drainQueue, metricValue, publishRaw, waitFor } from '../helpers/runtime-harness.ts';
import { badImages, cropFace, nonFaceImages, samplePhoto, variants, sampleSubjects } from '../helpers/face-images.ts';
import { startFaceServices } from '../helpers/face-services.ts';

const HOOK = 'https://alerts.example.org/vigil';
let t: TestEnv;
let running: RunningApp;
let subject: Box;
let other: Box;
let enrolment: Buffer;

before(async () => {
  t = await createTestEnv('facestreaming', {
    // These scenarios enrol one face for several employees to test other rules; the duplicate
    // check has its own tests (facetraining-duplicates.test.ts).
    FACE_DUPLICATE_CHECK: 'false',
    FACE_WORKERS: '2',
    FACESTREAMING_CONCURRENCY: '4',
    FACETRAINING_CONCURRENCY: '2',
    FACE_ALERT_TO: HOOK,
    // Behind a path prefix, with a trailing slash: the alerts' deep links must still be right.
    CONSOLE_URL: 'https://vigil.example/console/',
    FACE_ABSENCE_STREAK: '3',
    VIGIL_RETRY_DELAYS: '500ms',
    VIGIL_MAX_ATTEMPTS: '40',
  });
  const { engine } = await FaceEngine.load('auto');
  ({ subject, other } = await sampleSubjects(engine));
  enrolment = await cropFace(samplePhoto(6), subject, 0.5);
  running = await startFaceServices(t);
});
after(async () => {
  await running?.stop();
  await t.cleanup();
});

const T0 = Date.parse('2026-11-20T09:00:00.000Z');

async function enrol(lanId: string, image: Buffer, publish = true): Promise<number> {
  const r = await t.database().db.insertInto('train_img').values({ lan_id: lanId, image }).executeTakeFirstOrThrow();
  const id = Number(r.insertId);
  if (publish) await publishRaw(`${t.prefix}facetraining`, [String(id)]);
  return id;
}

/** Inserts snapshots one second apart, in capture order; returns their ids. */
async function snapshots(lanId: string, images: (Buffer | null)[], startSecond = 0): Promise<number[]> {
  const ids: number[] = [];
  for (const [i, image] of images.entries()) {
    const capture_time = new Date(T0 + (startSecond + i) * 1000);
    const r = await t.database().db.insertInto('stream_img').values({ lan_id: lanId, image, capture_time }).executeTakeFirstOrThrow();
    ids.push(Number(r.insertId));
  }
  return ids;
}

async function judged(ids: number[], timeoutMs = 180_000) {
  const db = t.database().db;
  await waitFor(`${ids.length} snapshots judged`, async () => {
    const rows = await db.selectFrom('stream_img').select('status').where('id', 'in', ids).execute();
    return rows.every((r) => r.status === 'Y' || r.status === 'F');
  }, timeoutMs, 250);
  const rows = await db.selectFrom('stream_img').selectAll().where('id', 'in', ids).execute();
  return ids.map((id) => rows.find((r) => r.id === id)!);
}

async function trained(id: number) {
  await waitFor('the enrolment processed', async () => {
    const r = await t.database().db.selectFrom('train_img').select('status').where('id', '=', id).executeTakeFirstOrThrow();
    return r.status === 'Y' || r.status === 'F';
  }, 120_000, 200);
}

test('every snapshot of an employee gets its result, in capture order even when published backwards, with alerts on notifier', async () => {
  const lanId = 'NA\\ada';
  const trainId = await enrol(lanId, enrolment);
  await trained(trainId);
  const photo = samplePhoto(6);
  const crop = await cropFace(photo, subject, 0.3);
  const held = await cropFace(photo, subject, 0.6);
  const nonFaces = await nonFaceImages();
  const cases: [name: string, image: Buffer | null, result: string][] = [
    ['another crop of the face', crop, 'SUCCESS'],
    ['grayscale', await variants.grayscale(crop), 'SUCCESS'],
    ['shrunk to 160 px', await variants.shrunk(enrolment, 160), 'SUCCESS'],
    ['the whole group photo', photo, 'SUCCESS_MULTIPLE_FACES'],
    ["another person's crop", await cropFace(photo, other, 0.5), 'UNKNOWN_PERSON'],
    ['a group photo without the employee', samplePhoto(3), 'UNKNOWN_MULTIPLE_FACES'],
    ['a blank image', nonFaces.blank!, 'NO_FACES_FOUND'],
    ['corrupt bytes', (await badImages()).truncated!, 'INVALID_IMAGE'],
    ['a held-up photo, 1st', held, 'SUCCESS'],
    ['the same bytes, 2nd', held, 'SUCCESS'],
    ['the same bytes, 3rd', held, 'IMPERSONATION_SUSPECTED'],
  ];
  const ids = await snapshots(lanId, cases.map((c) => c[1]));
  // Backwards: the newest snapshot's job must judge the earlier ones first.
  await publishRaw(`${t.prefix}facestreaming`, [...ids].reverse().map(String));
  const rows = await judged(ids);

  const db = t.database().db;
  for (const [i, [name, , expected]] of cases.entries()) {
    const row = rows[i]!;
    assert.equal(row.result, expected, name);
    assert.equal(row.status, ['INVALID_IMAGE'].includes(expected) ? 'F' : 'Y', `${name}: status`);
    assert.equal(row.train_img_id, trainId, `${name}: train_img_id`);
    assert.ok(row.processed_time instanceof Date, `${name}: processed_time`);
    const attempts = await db.selectFrom('process_status').selectAll().where('image_type', '=', 'stream').where('image_id', '=', row.id).execute();
    assert.equal(attempts.length, 1, `${name}: one process_status row`);
    assert.equal(attempts[0]!.result, expected);
    if (expected === 'INVALID_IMAGE') continue;
    assert.equal(row.num_faces, expected === 'NO_FACES_FOUND' ? 0 : expected.includes('MULTIPLE') ? (row.num_faces ?? 0) : 1, `${name}: num_faces`);
    if (expected === 'NO_FACES_FOUND') {
      assert.equal(row.distance, null);
      assert.equal(row.accuracy, null);
      continue;
    }
    assert.ok(row.distance !== null && row.accuracy !== null, `${name}: distance and accuracy`);
    assert.equal(row.accuracy, calibratedConfidence(row.distance), `${name}: accuracy is the calibrated confidence of the distance`);
    if (expected.startsWith('SUCCESS') || expected === 'IMPERSONATION_SUSPECTED') {
      assert.ok(row.distance <= 0.6, `${name}: a match reads distance ${row.distance}`);
    } else {
      assert.ok(row.distance > 0.6 && row.accuracy < calibratedConfidence(0.6), `${name}: no match reads distance ${row.distance} accuracy ${row.accuracy}`);
    }
  }
  assert.ok(rows[3]!.num_faces! > 1 && rows[5]!.num_faces! > 1, 'group photos count every face');
  // Accuracy falls as distance grows across the verdicts.
  const scored = rows.filter((r) => r.distance !== null).sort((a, b) => a.distance! - b.distance!);
  for (let i = 1; i < scored.length; i++) assert.ok(scored[i]!.accuracy! <= scored[i - 1]!.accuracy!, 'accuracy is monotone in distance');

  // The evidence behind the impersonation verdict.
  const last = await db.selectFrom('process_status').select('detail').where('image_type', '=', 'stream').where('image_id', '=', ids.at(-1)!).executeTakeFirstOrThrow();
  const evidence = JSON.parse(last.detail!).impersonation;
  assert.equal(evidence.suspected, true);
  assert.deepEqual(evidence.pairs.map((p: { streamImgId: number; sameBytes: boolean }) => [p.streamImgId, p.sameBytes]), [[ids.at(-2), true], [ids.at(-3), true]]);

  // Alerts: the unknown-person run (3 in a row) and the impersonation, each once, on notifier.
  const alerts = await db.selectFrom('face_alert').selectAll().where('lan_id', '=', lanId).orderBy('id').execute();
  assert.deepEqual(alerts.map((a) => [a.kind, a.stream_img_id, a.state]), [
    ['unknown_person', ids[6], 'published'],
    ['impersonation', ids[10], 'published'],
  ]);
  const sent = (await drainQueue(`${t.prefix}notifier`)).map((m) => JSON.parse(m.body));
  const mine = sent.filter((n) => n.data.lanId === lanId);
  assert.deepEqual(mine.map((n) => [n.template, n.idempotencyKey, n.channel, n.to]), [
    ['face_unknown_person', `vigil:face-unknown_person-${ids[6]}`, 'webhook', [HOOK]],
    ['face_impersonation_suspected', `vigil:face-impersonation-${ids[10]}`, 'webhook', [HOOK]],
  ]);
  assert.equal(mine[1].data.evidence.length, 2);
  assert.ok((await metricValue(running.app.metrics, 'vigil_face_results_total', { type: 'stream', result: 'IMPERSONATION_SUSPECTED' })) >= 1);
});

test('re-encoded copies of one picture are near-identical: suspected too; re-framed ones are not (default tolerances)', async () => {
  const lanId = 'NA\\reencoded';
  await trained(await enrol(lanId, enrolment));
  const crop = await cropFace(samplePhoto(6), subject, 0.5, { quality: 95 });
  // Different bytes each time: re-encoded, then the same pixels as PNG.
  const copies = [crop, await sharp(crop).jpeg({ quality: 90 }).toBuffer(), await sharp(crop).png().toBuffer()];
  const ids = await snapshots(lanId, copies);
  await publishRaw(`${t.prefix}facestreaming`, ids.map(String));
  assert.deepEqual((await judged(ids)).map((r) => r.result), ['SUCCESS', 'SUCCESS', 'IMPERSONATION_SUSPECTED']);

  const live = 'NA\\live';
  await trained(await enrol(live, enrolment));
  const photo = samplePhoto(6);
  const framings = [await cropFace(photo, subject, 0.3), await cropFace(photo, subject, 0.45), await cropFace(photo, subject, 0.7), await cropFace(photo, { ...subject, x: subject.x + 8 }, 0.5)];
  const liveIds = await snapshots(live, framings);
  await publishRaw(`${t.prefix}facestreaming`, liveIds.map(String));
  assert.deepEqual((await judged(liveIds)).map((r) => r.result), ['SUCCESS', 'SUCCESS', 'SUCCESS', 'SUCCESS']);
});

test('nobody at the desk: one absence alert when the run reaches the configured length, not one per snapshot', async () => {
  const lanId = 'NA\\away';
  await trained(await enrol(lanId, enrolment));
  const blank = (await nonFaceImages()).blank!;
  const ids = await snapshots(lanId, [blank, blank, blank, blank, blank]);
  await publishRaw(`${t.prefix}facestreaming`, ids.map(String));
  assert.deepEqual((await judged(ids)).map((r) => r.result), Array(5).fill('NO_FACES_FOUND'));
  const alerts = await t.database().db.selectFrom('face_alert').select(['kind', 'stream_img_id', 'notification']).where('lan_id', '=', lanId).execute();
  assert.deepEqual(alerts.map((a) => ({ kind: a.kind, stream_img_id: a.stream_img_id })), [{ kind: 'absence', stream_img_id: ids[2] }]);
  // CONSOLE_URL is set: the alert links the snapshot and the employee's page (the lan_id one encoded segment).
  const stored: unknown = alerts[0]!.notification;
  const { data } = (typeof stored === 'string' ? JSON.parse(stored) : stored) as { data: Record<string, unknown> };
  assert.equal(data.reviewUrl, `https://vigil.example/console/review/snapshot/${ids[2]}`);
  assert.equal(data.employeeUrl, 'https://vigil.example/console/employees/NA%5Caway');
});

test('employees without an enrolment, or whose newest processed enrolment failed', async () => {
  const failedLan = 'NA\\failed';
  const okTrain = await enrol(failedLan, enrolment);
  await trained(okTrain);
  const badTrain = await enrol(failedLan, (await nonFaceImages()).gradient!);
  await trained(badTrain);
  const [none] = await snapshots('NA\\nobody', [enrolment]);
  const [failed] = await snapshots(failedLan, [enrolment]);
  await publishRaw(`${t.prefix}facestreaming`, [String(none), JSON.stringify({ id: failed })]);
  const [a, b] = await judged([none!, failed!]);
  assert.deepEqual([a!.result, a!.status, a!.train_img_id], ['NO_TRAINING_IMAGE', 'F', null]);
  assert.deepEqual([b!.result, b!.status, b!.train_img_id], ['TRAINING_IMAGE_FAILED', 'F', badTrain]);
});

test('a snapshot whose enrolment is still pending waits for it instead of answering NO_TRAINING_IMAGE', async () => {
  const lanId = 'NA\\newcomer';
  const trainId = await enrol(lanId, enrolment, false);
  const [snap] = await snapshots(lanId, [await cropFace(samplePhoto(6), subject, 0.3)]);
  const retriesBefore = await metricValue(running.app.metrics, 'vigil_retries_total', { service: 'facestreaming', queue: 'facestreaming' });
  await publishRaw(`${t.prefix}facestreaming`, [String(snap)]);
  await waitFor('two retries', async () => (await metricValue(running.app.metrics, 'vigil_retries_total', { service: 'facestreaming', queue: 'facestreaming' })) >= retriesBefore + 2, 30_000);
  const waiting = await t.database().db.selectFrom('stream_img').select(['status', 'result']).where('id', '=', snap!).executeTakeFirstOrThrow();
  assert.deepEqual(waiting, { status: 'N', result: null });
  await publishRaw(`${t.prefix}facetraining`, [String(trainId)]);
  const [row] = await judged([snap!]);
  assert.deepEqual([row!.result, row!.train_img_id], ['SUCCESS', trainId]);
});

// One employee's burst through the real services (RabbitMQ, MariaDB, two face threads,
// four jobs at a time): a re-enrolment batch and a snapshot backlog. The employee's lock
// still serialises the decisions (their attempt rows never overlap, the verdicts are
// recorded in capture order and read the verdicts before them), while the analyses run on
// both threads at once: the analysis time the rows record adds up to more than the time
// the burst took, which one thread could not do.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { FaceEngine } from '../../shared/face/engine.ts';
import type { RunningApp } from '../../shared/app/run-services.ts';
import type { Box } from '../../shared/face/geometry.ts';
import { createTestEnv, type TestEnv } from '../helpers/test-env.ts';
import { publishRaw, waitFor } from '../helpers/runtime-harness.ts';
import { cropFace, nonFaceImages, samplePhoto, sampleSubjects } from '../helpers/face-images.ts';
import { startFaceServices } from '../helpers/face-services.ts';

/** Analysis time over elapsed time above which two threads must have run at once (one thread gives at most 1). */
const OVERLAP = 1.25;

let t: TestEnv;
let running: RunningApp;
let subject: Box;
let other: Box;

before(async () => {
  t = await createTestEnv('faceburst', {
    // These scenarios enrol one face for several employees to test other rules; the duplicate
    // check has its own tests (facetraining-duplicates.test.ts).
    FACE_DUPLICATE_CHECK: 'false',
    FACE_WORKERS: '2',
    FACETRAINING_CONCURRENCY: '4',
    FACESTREAMING_CONCURRENCY: '4',
    FACE_ABSENCE_STREAK: '3',
    VIGIL_RETRY_DELAYS: '500ms',
  });
  const { engine } = await FaceEngine.load('auto');
  ({ subject, other } = await sampleSubjects(engine));
  running = await startFaceServices(t);
});
after(async () => {
  await running?.stop();
  await t.cleanup();
});

const db = () => t.database().db;

async function insertTrain(lanId: string, image: Buffer): Promise<number> {
  return Number((await db().insertInto('train_img').values({ lan_id: lanId, image }).executeTakeFirstOrThrow()).insertId);
}

async function until(table: 'train_img' | 'stream_img', ids: number[], timeoutMs = 180_000): Promise<void> {
  await waitFor(`${ids.length} ${table} rows processed`, async () => {
    const rows = await db().selectFrom(table).select('status').where('id', 'in', ids).execute();
    return rows.every((r) => r.status === 'Y' || r.status === 'F');
  }, timeoutMs, 100);
}

/** The attempts of these rows, in the order they were opened. */
async function attemptsOf(type: 'train' | 'stream', ids: number[]) {
  return db().selectFrom('process_status').selectAll().where('image_type', '=', type).where('image_id', 'in', ids).orderBy('id').execute();
}

function assertSerial(spans: { started_at: Date; finished_at: Date | null }[]): void {
  const sorted = [...spans].sort((a, b) => a.started_at.getTime() - b.started_at.getTime());
  for (let i = 1; i < sorted.length; i++) {
    assert.ok(sorted[i]!.started_at.getTime() >= sorted[i - 1]!.finished_at!.getTime(), "the employee's attempts (decide and record, under the lock) do not overlap");
  }
}

/** Sum of the analysis times the attempts recorded, over the burst's elapsed time. */
async function overlap(type: 'train' | 'stream', ids: number[], t0: number): Promise<{ ratio: number; analysisMs: number; elapsedMs: number }> {
  const table = type === 'train' ? 'train_img' : 'stream_img';
  const rows = await db().selectFrom(table).select('processed_time').where('id', 'in', ids).execute();
  const end = Math.max(...rows.map((r) => r.processed_time!.getTime()));
  const analysisMs = (await attemptsOf(type, ids)).reduce((sum, a) => sum + Number(JSON.parse(a.detail ?? '{}').ms ?? 0), 0);
  return { ratio: analysisMs / (end - t0), analysisMs, elapsedMs: end - t0 };
}

test('a re-enrolment burst of one lan_id: every photo enrolled, one attempt each, never two at once, analysed on both threads', async (tc) => {
  const photo = samplePhoto(6);
  const images = await Promise.all([0.4, 0.5, 0.6].map((m) => cropFace(photo, subject, m, { size: 400 })));
  const lanId = 'NA\\rebadged';
  const ids: number[] = [];
  for (let i = 0; i < 16; i++) ids.push(await insertTrain(lanId, images[i % images.length]!));
  const t0 = Date.now();
  await publishRaw(`${t.prefix}facetraining`, ids.map(String));
  await until('train_img', ids);

  const rows = await db().selectFrom('train_img').select(['status', 'result']).where('id', 'in', ids).execute();
  assert.deepEqual(rows.map((r) => [r.status, r.result]), Array(16).fill(['Y', 'SUCCESS']));
  const attempts = await attemptsOf('train', ids);
  assert.deepEqual(attempts.map((a) => [a.status, a.attempt]), Array(16).fill(['Y', 1]), 'one attempt each');
  assertSerial(attempts);
  const o = await overlap('train', ids, t0);
  tc.diagnostic(`${o.analysisMs} ms of analysis in ${o.elapsedMs} ms: ${o.ratio.toFixed(2)}×`);
  assert.ok(o.ratio > OVERLAP, `analyses overlapped: ${o.analysisMs} ms of analysis in ${o.elapsedMs} ms (${o.ratio.toFixed(2)}×)`);
  // The newest enrolment is the one facestreaming compares against.
  const descriptors = await db().selectFrom('face_descriptor').select('train_img_id').where('lan_id', '=', lanId).execute();
  assert.equal(descriptors.length, 16);
});

test("a snapshot backlog of one employee: judged in capture order, with the rules reading the verdicts before, as one at a time would; analysed on both threads", async (tc) => {
  const photo = samplePhoto(6);
  const enrolment = await cropFace(photo, subject, 0.5);
  const held = await cropFace(photo, subject, 0.6, { size: 360 });
  const stranger = await cropFace(photo, other, 0.5, { size: 360 });
  const blank = (await nonFaceImages()).blank!;
  const live = await Promise.all([0.3, 0.45, 0.7, 0.35, 0.8, 0.4, 0.55, 0.65].map((m) => cropFace(photo, subject, m, { size: 360 })));
  const images = [live[0]!, live[1]!, held, held, held, live[2]!, blank, blank, blank, live[3]!, stranger, stranger, stranger, live[4]!, photo, live[5]!, held, live[6]!, live[7]!, blank];
  const T0 = Date.parse('2026-11-22T08:00:00.000Z');
  const insert = async (lanId: string) => {
    const ids: number[] = [];
    for (const [i, image] of images.entries()) {
      const r = await db().insertInto('stream_img').values({ lan_id: lanId, image, capture_time: new Date(T0 + i * 2000) }).executeTakeFirstOrThrow();
      ids.push(Number(r.insertId));
    }
    return ids;
  };
  const enrol = async (lanId: string) => {
    const id = await insertTrain(lanId, enrolment);
    await publishRaw(`${t.prefix}facetraining`, [String(id)]);
    await until('train_img', [id]);
  };
  const outcome = async (ids: number[]) => {
    const rows = await db().selectFrom('stream_img').select(['id', 'status', 'result']).where('id', 'in', ids).execute();
    const alerts = await db().selectFrom('face_alert').select(['stream_img_id', 'kind']).where('stream_img_id', 'in', ids).execute();
    const attempts = await attemptsOf('stream', ids);
    return ids.map((id, i) => ({
      i,
      status: rows.find((r) => r.id === id)!.status,
      result: rows.find((r) => r.id === id)!.result,
      attempts: attempts.filter((a) => a.image_id === id).length,
      alerts: alerts.filter((a) => a.stream_img_id === id).map((a) => a.kind),
      evidence: (JSON.parse(attempts.find((a) => a.image_id === id)?.detail ?? '{}').impersonation?.pairs ?? []).map((p: { streamImgId: number }) => ids.indexOf(p.streamImgId)),
    }));
  };

  // The reference: the same snapshots for another employee, each published once the one before is judged.
  await enrol('NA\\steady');
  const steady = await insert('NA\\steady');
  for (const id of steady) {
    await publishRaw(`${t.prefix}facestreaming`, [String(id)]);
    await until('stream_img', [id]);
  }
  const expected = await outcome(steady);
  assert.ok(expected.some((o) => o.result === 'IMPERSONATION_SUSPECTED'), 'the sequence exercises the impersonation rule');
  assert.ok(expected.some((o) => o.alerts.includes('absence')), 'and the absence rule');

  // The backlog: every message at once.
  await enrol('NA\\backlog');
  const ids = await insert('NA\\backlog');
  const t0 = Date.now();
  await publishRaw(`${t.prefix}facestreaming`, ids.map(String));
  await until('stream_img', ids);

  assert.deepEqual(await outcome(ids), expected, 'the same results, alerts and evidence as one at a time');
  const attempts = await attemptsOf('stream', ids);
  assert.deepEqual(attempts.map((a) => a.image_id), ids, 'the attempts were opened, and the verdicts given, in capture order');
  assertSerial(attempts);
  const o = await overlap('stream', ids, t0);
  tc.diagnostic(`${o.analysisMs} ms of analysis in ${o.elapsedMs} ms: ${o.ratio.toFixed(2)}×`);
  assert.ok(o.ratio > OVERLAP, `analyses overlapped: ${o.analysisMs} ms of analysis in ${o.elapsedMs} ms (${o.ratio.toFixed(2)}×)`);
});

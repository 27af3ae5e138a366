// The face handlers on their own (real MariaDB, real repositories and locks, no broker)
// with a face analyzer that stands in for a pool of two face threads: each call waits for
// a free "thread", holds it a while, and answers with the real engine's analysis of those
// bytes (computed once, up front). This shows what the service-level test cannot see
// directly: how many analyses ran at once for one employee, which decisions overlapped, in
// what order the verdicts were recorded, and which snapshot was analysed how often.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { FaceEngine, type FaceAnalysis } from '../../shared/face/engine.ts';
import { calibratedConfidence } from '../../shared/face/calibration.ts';
import { createLockManager, type LockManager } from '../../shared/lock.ts';
import { createLogger } from '../../shared/logger.ts';
import { TransientError } from '../../shared/errors.ts';
import type { Config } from '../../services/config.ts';
import type { Box } from '../../shared/face/geometry.ts';
import type { JobContext } from '../../shared/runtime/consumer.ts';
import type { Metrics } from '../../shared/metrics.ts';
import type { Notification } from '../../shared/contract/messages.ts';
import { facetrainingRepository, type FacetrainingRepository } from '../../db/repositories/facetraining.repository.ts';
import { facestreamingRepository, type FacestreamingRepository } from '../../db/repositories/facestreaming.repository.ts';
import { alertOutboxRepository } from '../../db/repositories/alert-outbox.repository.ts';
import { facetrainingHandler } from '../../services/facetraining/handler.ts';
import { facestreamingHandler } from '../../services/facestreaming/handler.ts';
import { createTestEnv, type TestEnv } from '../helpers/test-env.ts';
import { cropFace, nonFaceImages, samplePhoto, sampleSubjects } from '../helpers/face-images.ts';

const THREADS = 2;
const CONCURRENCY = 4;

let t: TestEnv;
let locks: LockManager;
let engine: FaceEngine;
let face: Config['face'];
let subject: Box;
let other: Box;
const real = new Map<string, FaceAnalysis>();
const log = createLogger({ level: 'silent' });
const metrics = { faceResultsTotal: { inc: () => undefined } } as unknown as Pick<Metrics, 'faceResultsTotal'>;

before(async () => {
  t = await createTestEnv('facelocksplit', { FACE_WORKERS: String(THREADS) });
  face = t.config.face;
  locks = createLockManager({ db: t.database().db, namespace: t.databaseName });
  ({ engine } = await FaceEngine.load('auto'));
  ({ subject, other } = await sampleSubjects(engine));
});
after(async () => {
  await t.cleanup();
});

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** The real engine's answer for each of these images, computed once. */
async function learn(images: Buffer[]): Promise<void> {
  for (const img of images) if (!real.has(sha(img))) real.set(sha(img), await engine.analyze(img));
}

/**
 * A stand-in for the face pool: at most THREADS analyses at a time, each holding its
 * thread 40–200 ms (so they finish out of order), answering with the real analysis.
 */
function fakePool(opts: { fail?: (n: number) => boolean } = {}) {
  let busy = 0;
  const waiting: (() => void)[] = [];
  const stats = { calls: 0, peakBusy: 0 };
  return {
    stats,
    info: { model: 'test/faceRecognitionNet' } as never,
    async analyze(bytes: Uint8Array): Promise<FaceAnalysis> {
      const n = stats.calls++;
      while (busy >= THREADS) await new Promise<void>((r) => waiting.push(r));
      busy++;
      stats.peakBusy = Math.max(stats.peakBusy, busy);
      try {
        await sleep(40 + ((n * 7919) % 5) * 40);
        if (opts.fail?.(n)) throw new TransientError('FACE_WORKER_DIED', 'the face thread died');
        const known = real.get(sha(bytes));
        if (!known) throw new Error('an image the test did not learn');
        return structuredClone(known);
      } finally {
        busy--;
        waiting.shift()?.();
      }
    },
  };
}

/** What the consumer does: at most `n` jobs at once, taken in the order given. */
async function consume<T>(n: number, jobs: (() => Promise<T>)[]): Promise<PromiseSettledResult<T>[]> {
  const out: PromiseSettledResult<T>[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (next < jobs.length) {
        const i = next++;
        out[i] = await jobs[i]!().then(
          (value) => ({ status: 'fulfilled', value }) as const,
          (reason: unknown) => ({ status: 'rejected', reason }) as const,
        );
      }
    }),
  );
  return out;
}

const ctx = (attempt = 1): JobContext => ({ log, attempt, redelivered: false, messageId: undefined, signal: new AbortController().signal });

/** Wraps a repository's decision calls: per employee, how many were under way at once, and what was recorded in which order. */
function decisionProbe<R extends object>(repo: R, lanOf: (args: any) => Promise<string> | string, open: keyof R, close: (keyof R)[]) {
  const active = new Map<string, number>();
  const stats = { peakPerEmployee: 0 };
  const wrapped = { ...repo } as R;
  const openFn = repo[open] as (...a: any[]) => Promise<unknown>;
  (wrapped as any)[open] = async (a: any) => {
    const lan = await lanOf(a);
    active.set(lan, (active.get(lan) ?? 0) + 1);
    stats.peakPerEmployee = Math.max(stats.peakPerEmployee, active.get(lan)!);
    return openFn(a);
  };
  for (const name of close) {
    const fn = repo[name] as (...a: any[]) => Promise<unknown>;
    (wrapped as any)[name] = async (a: any) => {
      try {
        return await fn(a);
      } finally {
        const lan = await lanOf(a);
        active.set(lan, active.get(lan)! - 1);
      }
    };
  }
  return { repo: wrapped, stats };
}

/** A deterministic shuffle (the order messages of a backlog reach the consumer is anyone's). */
function shuffled<T>(xs: T[], seed = 7): T[] {
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    const j = seed % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

function trainingDeps(faces: ReturnType<typeof fakePool>, repo: FacetrainingRepository = facetrainingRepository(t.database().db)) {
  // The lock's spans are the subject here; every photo is one employee's, so no duplicate check would refuse one.
  return { repo, faces, locks, bounds: face.quality, duplicates: { check: async () => ({ bound: 0.65, faces: 0, ms: 0 }) }, metrics, worker: 'test:1' };
}

async function insertTrain(lanId: string, image: Buffer): Promise<number> {
  return Number((await t.database().db.insertInto('train_img').values({ lan_id: lanId, image }).executeTakeFirstOrThrow()).insertId);
}

test("facetraining: a re-enrolment burst of one lan_id is analysed on both threads at once, decided one at a time", async () => {
  const photo = samplePhoto(6);
  const images = await Promise.all([0.3, 0.4, 0.5, 0.6, 0.7, 0.8].map((m) => cropFace(photo, subject, m)));
  await learn(images);
  const lanId = 'NA\\reenrol';
  const ids: number[] = [];
  for (let i = 0; i < 12; i++) ids.push(await insertTrain(lanId, images[i % images.length]!));
  const db = t.database().db;
  const lanOfTrain = async (a: { id: number }) => (await db.selectFrom('train_img').select('lan_id').where('id', '=', a.id).executeTakeFirstOrThrow()).lan_id;
  const probe = decisionProbe(facetrainingRepository(db), lanOfTrain, 'startAttempt', ['recordResult', 'releaseAttempt']);
  const pool = fakePool();
  const handle = facetrainingHandler(trainingDeps(pool, probe.repo));

  const outcomes = await consume(CONCURRENCY, ids.map((id) => () => handle({ id }, ctx())));
  assert.deepEqual(outcomes.map((o) => o.status === 'fulfilled' && o.value), Array(12).fill('done'));
  assert.equal(pool.stats.calls, 12, 'each photo analysed once');
  assert.equal(pool.stats.peakBusy, THREADS, 'both face threads analysed photos of the one employee at the same time');
  assert.equal(probe.stats.peakPerEmployee, 1, "the employee's decisions never overlapped");

  const rows = await db.selectFrom('train_img').select(['id', 'status', 'result']).where('id', 'in', ids).execute();
  assert.ok(rows.every((r) => r.status === 'Y' && r.result === 'SUCCESS'));
  const spans = await db.selectFrom('process_status').select(['image_id', 'attempt', 'status', 'started_at', 'finished_at']).where('image_type', '=', 'train').where('image_id', 'in', ids).orderBy('started_at').orderBy('id').execute();
  assert.equal(spans.length, 12, 'one attempt row each');
  for (let i = 1; i < spans.length; i++) assert.ok(spans[i]!.started_at.getTime() >= spans[i - 1]!.finished_at!.getTime(), 'attempts of one lan_id do not overlap');
});

test('facetraining: an analysis that fails leaves its attempt row, released with the reason, and the row back in N', async () => {
  const img = await cropFace(samplePhoto(6), subject, 0.5);
  await learn([img]);
  const id = await insertTrain('NA\\unlucky', img);
  const handle = facetrainingHandler(trainingDeps(fakePool({ fail: () => true })));
  await assert.rejects(handle({ id }, ctx(1)), { code: 'FACE_WORKER_DIED' });
  const db = t.database().db;
  const row = await db.selectFrom('train_img').select(['status', 'result']).where('id', '=', id).executeTakeFirstOrThrow();
  assert.deepEqual(row, { status: 'N', result: null });
  const attempts = await db.selectFrom('process_status').selectAll().where('image_type', '=', 'train').where('image_id', '=', id).execute();
  assert.equal(attempts.length, 1);
  assert.deepEqual([attempts[0]!.status, attempts[0]!.attempt, JSON.parse(attempts[0]!.detail!).error], ['N', 1, 'FACE_WORKER_DIED']);
  assert.ok(attempts[0]!.finished_at);
  // The retry succeeds and adds its own attempt.
  assert.equal(await facetrainingHandler(trainingDeps(fakePool()))({ id }, ctx(2)), 'done');
  const after = await db.selectFrom('process_status').select(['attempt', 'status']).where('image_type', '=', 'train').where('image_id', '=', id).orderBy('id').execute();
  assert.deepEqual(after, [{ attempt: 1, status: 'N' }, { attempt: 2, status: 'Y' }]);
});

// ---- facestreaming

const T0 = Date.parse('2026-11-21T09:00:00.000Z');
const sent: Notification[] = [];

function streamingDeps(faces: ReturnType<typeof fakePool>, repo: FacestreamingRepository) {
  const db = t.database().db;
  return {
    repo,
    outbox: alertOutboxRepository(db),
    trainImages: facetrainingRepository(db),
    faces,
    locks,
    publishAlert: async (n: Notification) => void sent.push(n),
    confidence: calibratedConfidence,
    settings: { threshold: face.matchThreshold, impersonation: face.impersonation, absenceStreak: 3, gallerySize: face.gallerySize, alerts: { channel: 'webhook' as const, to: ['https://alerts.example.org/x'] }, maxAttempts: 6 },
    metrics,
    worker: 'test:1',
  };
}

async function enrolled(lanId: string, image: Buffer): Promise<void> {
  await learn([image]);
  const id = await insertTrain(lanId, image);
  assert.equal(await facetrainingHandler(trainingDeps(fakePool()))({ id }, ctx()), 'done');
}

async function insertSnapshots(lanId: string, images: Buffer[]): Promise<number[]> {
  const ids: number[] = [];
  for (const [i, image] of images.entries()) {
    const r = await t.database().db.insertInto('stream_img').values({ lan_id: lanId, image, capture_time: new Date(T0 + i * 1000) }).executeTakeFirstOrThrow();
    ids.push(Number(r.insertId));
  }
  return ids;
}

/** Per snapshot (by position): result, alerts and the positions of the impersonation evidence. */
async function outcome(ids: number[]) {
  const db = t.database().db;
  const rows = await db.selectFrom('stream_img').select(['id', 'status', 'result']).where('id', 'in', ids).execute();
  const alerts = await db.selectFrom('face_alert').select(['stream_img_id', 'kind', 'state']).where('stream_img_id', 'in', ids).orderBy('id').execute();
  const attempts = await db.selectFrom('process_status').select(['image_id', 'status', 'detail']).where('image_type', '=', 'stream').where('image_id', 'in', ids).execute();
  return ids.map((id, i) => {
    const mine = attempts.filter((a) => a.image_id === id);
    const detail = JSON.parse(mine.at(-1)?.detail ?? '{}');
    return {
      i,
      status: rows.find((r) => r.id === id)!.status,
      result: rows.find((r) => r.id === id)!.result,
      attempts: mine.map((a) => a.status),
      alerts: alerts.filter((a) => a.stream_img_id === id).map((a) => `${a.kind}:${a.state}`),
      evidence: (detail.impersonation?.pairs ?? []).map((p: { streamImgId: number }) => ids.indexOf(p.streamImgId)),
      absenceStreak: detail.absenceStreak ?? 0,
    };
  });
}

test("facestreaming: a backlog of one employee's snapshots is analysed on both threads at once, each once, and judged in capture order as one at a time would", async () => {
  const photo = samplePhoto(6);
  const enrolment = await cropFace(photo, subject, 0.5);
  const held = await cropFace(photo, subject, 0.6);
  const stranger = await cropFace(photo, other, 0.5);
  const blank = (await nonFaceImages()).blank!;
  const live = await Promise.all([0.3, 0.45, 0.7, 0.35, 0.8, 0.4].map((m) => cropFace(photo, subject, m)));
  // Order matters here: a held-up photo (the same bytes thrice), nobody at the desk, a stranger.
  const images = [live[0]!, live[1]!, held, held, held, blank, blank, blank, live[2]!, stranger, stranger, stranger, live[3]!, photo, live[4]!, held, live[5]!, blank];
  await learn(images);

  // The reference: the same snapshots for another employee, one job at a time, in capture order.
  await enrolled('NA\\calm', enrolment);
  const calmIds = await insertSnapshots('NA\\calm', images);
  const serial = streamingDeps(fakePool(), facestreamingRepository(t.database().db));
  for (const id of calmIds) await facestreamingHandler(serial)({ id }, ctx());
  const expected = await outcome(calmIds);
  assert.ok(expected.some((o) => o.result === 'IMPERSONATION_SUSPECTED'), 'the sequence exercises the impersonation rule');
  assert.ok(expected.some((o) => o.alerts.includes('absence:published')), 'and the absence rule');

  // The burst: every snapshot's message at once, in no particular order, CONCURRENCY jobs at a time.
  await enrolled('NA\\burst', enrolment);
  const ids = await insertSnapshots('NA\\burst', images);
  const db = t.database().db;
  const base = facestreamingRepository(db);
  const recorded: number[] = [];
  const imageReads = new Map<number, number>();
  const repo: FacestreamingRepository = {
    ...base,
    async imageOf(id) {
      // An analysis starts here: count the ones that began while the verdict was still to be given.
      if (!recorded.includes(id)) imageReads.set(id, (imageReads.get(id) ?? 0) + 1);
      return base.imageOf(id);
    },
    async recordVerdict(v) {
      await base.recordVerdict(v);
      recorded.push(v.id);
    },
  };
  const lanOfSnapshot = async (a: { id: number }) => (await base.findSnapshot(a.id))!.lanId;
  const probe = decisionProbe(repo, lanOfSnapshot, 'startAttempt', ['recordVerdict', 'releaseAttempt']);
  const pool = fakePool();
  const handle = facestreamingHandler(streamingDeps(pool, probe.repo));
  const outcomes = await consume(CONCURRENCY, shuffled(ids).map((id) => () => handle({ id }, ctx())));
  assert.deepEqual(outcomes.filter((o) => o.status === 'rejected'), [], 'no job failed');

  assert.deepEqual(recorded, ids, 'the verdicts were recorded in capture order');
  assert.equal(probe.stats.peakPerEmployee, 1, "the employee's decisions never overlapped");
  assert.equal(pool.stats.peakBusy, THREADS, 'both face threads analysed snapshots of the one employee at the same time');
  assert.deepEqual(
    ids.filter((id) => imageReads.get(id) !== 1),
    [],
    'every snapshot was analysed exactly once before its verdict (a catch-up awaits the analysis its own job has under way)',
  );
  assert.deepEqual(await outcome(ids), expected, 'the same results, alerts and evidence as one job at a time');
  assert.ok(outcomes.some((o) => o.status === 'fulfilled' && o.value === 'duplicate'), 'some snapshots were judged by a later one catching up');
});

test("facestreaming: a catch-up awaits the earlier snapshot's analysis under way in its own job instead of running it again", async () => {
  const photo = samplePhoto(6);
  await enrolled('NA\\pair', await cropFace(photo, subject, 0.5));
  const images = [await cropFace(photo, subject, 0.3), await cropFace(photo, subject, 0.45)];
  await learn(images);
  const [first, second] = await insertSnapshots('NA\\pair', images);
  // The first snapshot's analysis is held until the second has taken the lock.
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const pool = fakePool();
  let calls = 0;
  const faces = {
    ...pool,
    async analyze(bytes: Uint8Array) {
      const n = calls++;
      if (n === 0) await gate;
      return pool.analyze(bytes);
    },
  };
  const base = facestreamingRepository(t.database().db);
  let caughtUp!: () => void;
  const catchingUp = new Promise<void>((r) => (caughtUp = r));
  const repo: FacestreamingRepository = {
    ...base,
    async pendingBefore(s, limit) {
      const rows = await base.pendingBefore(s, limit);
      if (s.id === second) caughtUp();
      return rows;
    },
  };
  const handle = facestreamingHandler(streamingDeps(faces as ReturnType<typeof fakePool>, repo));
  const a = handle({ id: first! }, ctx());
  await sleep(50);
  const b = handle({ id: second! }, ctx());
  await catchingUp;
  await sleep(100);
  release();
  assert.deepEqual(await Promise.all([a, b]), ['duplicate', 'done']);
  assert.equal(calls, 2, 'two snapshots, two analyses');
  const rows = await t.database().db.selectFrom('stream_img').select(['id', 'result']).where('id', 'in', [first!, second!]).orderBy('id').execute();
  assert.deepEqual(rows.map((r) => r.result), ['SUCCESS', 'SUCCESS']);
});

test('facestreaming: an analysis that fails leaves its attempt row, released with the reason', async () => {
  const photo = samplePhoto(6);
  await enrolled('NA\\crash', await cropFace(photo, subject, 0.5));
  const img = await cropFace(photo, subject, 0.3);
  await learn([img]);
  const [id] = await insertSnapshots('NA\\crash', [img]);
  const handle = facestreamingHandler(streamingDeps(fakePool({ fail: () => true }), facestreamingRepository(t.database().db)));
  await assert.rejects(handle({ id: id! }, ctx(1)), { code: 'FACE_WORKER_DIED' });
  const db = t.database().db;
  assert.deepEqual(await db.selectFrom('stream_img').select(['status', 'result']).where('id', '=', id!).executeTakeFirstOrThrow(), { status: 'N', result: null });
  const attempts = await db.selectFrom('process_status').selectAll().where('image_type', '=', 'stream').where('image_id', '=', id!).execute();
  assert.deepEqual(attempts.map((a) => [a.status, a.attempt, JSON.parse(a.detail!).error]), [['N', 1, 'FACE_WORKER_DIED']]);
});

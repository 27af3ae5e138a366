import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestEnv, type TestEnv } from '../helpers/test-env.ts';
import { runCli } from '../helpers/cli.ts';
import { drainQueue } from '../helpers/runtime-harness.ts';
import { encodeDescriptor } from '../../db/descriptor.ts';
import { jobKeyHash, videoJobLockKey } from '../../db/repositories/transcoder.repository.ts';
import { createLockManager } from '../../shared/lock.ts';

let t: TestEnv;
const dir = mkdtempSync(join(tmpdir(), 'vigil-cli-ops-'));

before(async () => {
  t = await createTestEnv('cliops');
});
after(async () => {
  rmSync(dir, { recursive: true, force: true });
  await t.cleanup();
});

const HOUR = 3600_000;
const ago = (ms: number) => new Date(Date.now() - ms);

test('vigil snapshot inserts a stream_img row with its capture time and publishes its id to facestreaming', async () => {
  const image = join(dir, 'snap.jpg');
  writeFileSync(image, Buffer.from([0xff, 0xd8, 0xff, 0xd9]));
  // A minute ago, whole seconds (the column keeps seconds): not yet old enough for `vigil rescue` below.
  const captured = new Date(Math.floor((Date.now() - 60_000) / 1000) * 1000).toISOString();
  const r = await runCli(['snapshot', 'NA\\ada', image, '--capture-time', captured, '--json'], t.env);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { id: number; lanId: string; messageId: string };
  const row = await t.database().db.selectFrom('stream_img').selectAll().where('id', '=', out.id).executeTakeFirstOrThrow();
  assert.deepEqual([row.lan_id, row.status, row.capture_time.toISOString(), row.image?.length], ['NA\\ada', 'N', captured, 4]);
  assert.deepEqual((await drainQueue(`${t.prefix}facestreaming`)).map((m) => JSON.parse(m.body)), [{ id: out.id }]);
  // The rescue tests below count every stuck row; this one is not theirs.
  await t.database().db.deleteFrom('stream_img').where('id', '=', out.id).execute();

  const bad = await runCli(['snapshot', 'NA\\ada', image, '--capture-time', 'yesterday'], t.env);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /ISO 8601/);
  const missing = await runCli(['snapshot', 'NA\\ada', join(dir, 'nope.jpg')], t.env);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /cannot read .*nope\.jpg: ENOENT/);
});

test('vigil enroll refuses an image the database could not take, or over FACE_MAX_IMAGE_BYTES, with a clear error and no row', async () => {
  const big = join(dir, 'big.jpg');
  // 9 MiB: hex-encoded it is 18 MiB, past MariaDB's default 16 MiB max_allowed_packet.
  writeFileSync(big, Buffer.alloc(9 * 1024 * 1024, 0x41));
  const r = await runCli(['enroll', 'NA\\big', big], t.env);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /big\.jpg is 9\.0 MiB; this database takes images up to \d+\.\d MiB \(max_allowed_packet is \d+\.\d MiB and images travel hex-encoded\): raise max_allowed_packet on the server, or send a smaller image/);
  const limited = await runCli(['snapshot', 'NA\\big', big], { ...t.env, FACE_MAX_IMAGE_BYTES: '1MiB' });
  assert.equal(limited.code, 1);
  assert.match(limited.stderr, /big\.jpg is 9\.0 MiB, more than the 1\.0 MiB an image may be \(FACE_MAX_IMAGE_BYTES\)/);
  const rows = await t.database().db.selectFrom('train_img').select('id').where('lan_id', '=', 'NA\\big').execute();
  assert.deepEqual(rows, [], 'no row was inserted (and so nothing was published)');
});

test('vigil rescue republishes rows idle in N or P past the age, and alerts never published; nothing else', async () => {
  const db = t.database().db;
  const ins = async (table: 'train_img' | 'stream_img', status: 'N' | 'P' | 'Y', capture_time: Date) =>
    Number((await db.insertInto(table).values({ lan_id: 'NA\\rescue', status, capture_time, image: Buffer.from('x') }).executeTakeFirstOrThrow()).insertId);
  const lostTrain = await ins('train_img', 'N', ago(2 * HOUR));
  const crashedStream = await ins('stream_img', 'P', ago(3 * HOUR));
  await db.insertInto('process_status').values({ image_type: 'stream', image_id: crashedStream, status: 'P', attempt: 1, worker: 'gone:1', started_at: ago(2 * HOUR) }).execute();
  const busyStream = await ins('stream_img', 'P', ago(3 * HOUR));
  // Old capture, but an attempt started a minute ago: a worker is on it.
  await db.insertInto('process_status').values({ image_type: 'stream', image_id: busyStream, status: 'P', attempt: 1, worker: 'live:1', started_at: ago(60_000) }).execute();
  const freshStream = await ins('stream_img', 'N', new Date());
  const doneStream = await ins('stream_img', 'Y', ago(5 * HOUR));
  const notification = { channel: 'webhook', to: ['https://hooks.example.org/a'], template: 'face_absence', data: { lanId: 'NA\\rescue' }, idempotencyKey: `face-absence-${doneStream}` };
  const alert = Number(
    (await db.insertInto('face_alert').values({ lan_id: 'NA\\rescue', stream_img_id: doneStream, kind: 'absence', state: 'pending', notification: JSON.stringify(notification), created_at: ago(HOUR) }).executeTakeFirstOrThrow()).insertId,
  );

  // A stored notification the notifier would refuse (a bug or a hand edit): recorded, never sent.
  const broken = Number(
    (await db.insertInto('face_alert').values({ lan_id: 'NA\\rescue', stream_img_id: doneStream, kind: 'impersonation', state: 'pending', notification: '{"channel":"pager"}', created_at: ago(HOUR) }).executeTakeFirstOrThrow()).insertId,
  );

  // Video jobs: one a dead process left running (its lock is free), one a live process holds, one done.
  const video = async (jobId: string, status: 'running' | 'done', startedAt: Date) =>
    Number(
      (
        await db
          .insertInto('video_job')
          .values({ job_key_sha256: jobKeyHash(jobId), job_key: jobId, source_bucket: 'video-avi', source_key: `cam1/${jobId}.avi`, status, attempts: 1, job: JSON.stringify({ jobId, source: { bucket: 'video-avi', key: `cam1/${jobId}.avi` } }), started_at: startedAt })
          .executeTakeFirstOrThrow()
      ).insertId,
    );
  const orphanJob = await video('orphan', 'running', ago(HOUR));
  await video('busy', 'running', ago(HOUR));
  await video('finished', 'done', ago(HOUR));
  const locks = createLockManager({ db, namespace: t.databaseName });
  let release!: () => void;
  const holding = new Promise<void>((r) => (release = r));
  let held!: () => void;
  const heldNow = new Promise<void>((r) => (held = r));
  const busyLock = locks.withLock(videoJobLockKey('busy'), async () => {
    held();
    await holding;
  });
  await heldNow;

  const dry = await runCli(['rescue', '--older-than', '10m', '--dry-run', '--json'], t.env);
  assert.equal(dry.code, 0, dry.stderr);
  assert.deepEqual(JSON.parse(dry.stdout), { dryRun: true, olderThanMs: 600_000, forced: true, backingOff: 0, train: [lostTrain], stream: [crashedStream], videoJobs: [orphanJob], alerts: [alert] });
  assert.deepEqual(await drainQueue(`${t.prefix}facestreaming`), []);

  const r = await runCli(['rescue', '--older-than', '10m', '--json'], t.env);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout).stream, [crashedStream]);
  assert.deepEqual((await drainQueue(`${t.prefix}facetraining`)).map((m) => JSON.parse(m.body)), [{ id: lostTrain }]);
  assert.deepEqual((await drainQueue(`${t.prefix}facestreaming`)).map((m) => JSON.parse(m.body)), [{ id: crashedStream }]);
  assert.deepEqual((await drainQueue(`${t.prefix}notifier`)).map((m) => JSON.parse(m.body)), [notification]);
  assert.deepEqual((await drainQueue(`${t.prefix}transcoder`)).map((m) => JSON.parse(m.body)), [{ jobId: 'orphan', source: { bucket: 'video-avi', key: 'cam1/orphan.avi' } }]);
  release();
  await busyLock;
  const a = await db.selectFrom('face_alert').select(['state', 'published_at']).where('id', '=', alert).executeTakeFirstOrThrow();
  assert.equal(a.state, 'published');
  assert.ok(a.published_at instanceof Date);
  assert.deepEqual(JSON.parse(r.stdout).alerts, [alert], 'only the valid alert counts as republished');
  const b = await db.selectFrom('face_alert').select(['state', 'published_at']).where('id', '=', broken).executeTakeFirstOrThrow();
  assert.deepEqual([b.state, b.published_at], ['invalid', null]);

  // A second run finds the alert sent; the rows are still stuck (no consumer ran), so they go
  // again: the operator's rescue does not wait for the back-off the first run started.
  const again = JSON.parse((await runCli(['rescue', '--older-than', '10m', '--json'], t.env)).stdout);
  assert.ok(again.stream.includes(crashedStream) && again.backingOff >= 2, JSON.stringify(again));
  assert.deepEqual(again.alerts, []);
  assert.ok(!again.stream.includes(freshStream) && !again.stream.includes(busyStream) && !again.stream.includes(doneStream));
  await drainQueue(`${t.prefix}facetraining`);
  await drainQueue(`${t.prefix}facestreaming`);

  const badAge = await runCli(['rescue', '--older-than', 'soon'], t.env);
  assert.notEqual(badAge.code, 0);
  assert.match(badAge.stderr, /duration/);
});

test('vigil rescue pages through more stuck rows than one query returns', async () => {
  const db = t.database().db;
  const earlier = JSON.parse((await runCli(['rescue', '--older-than', '10m', '--dry-run', '--json'], t.env)).stdout) as { train: number[] };
  const rows = Array.from({ length: 1005 }, () => ({ lan_id: 'NA\\bulk', status: 'N' as const, capture_time: ago(HOUR), image: Buffer.from('x') }));
  const first = Number((await db.insertInto('train_img').values(rows).executeTakeFirstOrThrow()).insertId);
  const r = await runCli(['rescue', '--older-than', '10m', '--json'], t.env);
  assert.equal(r.code, 0, r.stderr);
  const train = JSON.parse(r.stdout).train as number[];
  assert.equal(train.length, earlier.train.length + 1005);
  assert.equal(new Set(train).size, train.length, 'each row once');
  for (let id = first; id < first + 1005; id++) assert.ok(train.includes(id), `train_img ${id} republished`);
  assert.equal((await drainQueue(`${t.prefix}facetraining`)).length, train.length);
  await drainQueue(`${t.prefix}facestreaming`);
});

test("vigil delete-user removes the employee's images, descriptors, traces, alerts and attempts, and prints the counts", async () => {
  const db = t.database().db;
  const seed = async (lanId: string) => {
    await db.insertInto('employee').values({ lan_id: lanId, name: 'Someone' }).execute();
    const train = Number((await db.insertInto('train_img').values({ lan_id: lanId, status: 'Y', result: 'SUCCESS', image: Buffer.from('t') }).executeTakeFirstOrThrow()).insertId);
    await db
      .insertInto('face_descriptor')
      .values({ train_img_id: train, lan_id: lanId, model: 'm', descriptor: encodeDescriptor(new Float32Array(128)), box: '{}', score: 0.9, quality: '{}' })
      .execute();
    const streams: number[] = [];
    for (let i = 0; i < 2; i++) {
      const s = Number((await db.insertInto('stream_img').values({ lan_id: lanId, status: 'Y', result: 'SUCCESS', image: Buffer.from('s') }).executeTakeFirstOrThrow()).insertId);
      streams.push(s);
      await db.insertInto('snapshot_face').values({ stream_img_id: s, lan_id: lanId, capture_time: new Date(), image_sha256: 'a'.repeat(64), matched: 1, descriptor: null, landmarks: null }).execute();
      await db.insertInto('process_status').values({ image_type: 'stream', image_id: s, status: 'Y', attempt: 1, started_at: new Date() }).execute();
    }
    await db.insertInto('process_status').values({ image_type: 'train', image_id: train, status: 'Y', attempt: 1, started_at: new Date() }).execute();
    await db.insertInto('face_alert').values({ lan_id: lanId, stream_img_id: streams[1]!, kind: 'impersonation', state: 'published', notification: '{}' }).execute();
    // Every face of a snapshot, and the gallery's decisions about the person (issue 26).
    const face = { lan_id: lanId, model: 'm', descriptor: encodeDescriptor(new Float32Array(128)) };
    await db.insertInto('stream_face').values({ ...face, stream_img_id: streams[0]!, face_index: 0, box: '{}', score: 0.9 }).execute();
    await db.insertInto('not_this_face').values({ ...face, stream_img_id: streams[1]!, face_index: 0, recorded_by: 'sup' }).execute();
    await db.insertInto('gallery_proposal').values({ lan_id: lanId, stream_img_id: streams[0]!, face_index: 0, proposed_by: 'sup' }).execute();
    await db.insertInto('gallery_removal').values({ train_img_id: train, lan_id: lanId, removed_by: 'lead' }).execute();
    await db.insertInto('employee_threshold').values({ lan_id: lanId, threshold: 0.55, set_by: 'lead' }).execute();
    // And the review queue's (issue 28).
    await db.insertInto('review_decision').values({ kind: 'snapshot', item_id: streams[1]!, lan_id: lanId, decision: 'dismiss', decided_by: 'sup' }).execute();
  };
  await seed('NA\\leaver');
  await seed('NA\\stayer');
  // An accepted lookalike pair names both; it goes with either.
  await db.insertInto('identity_distinct').values({ lan_id: 'NA\\stayer', other_lan_id: 'NA\\leaver', accepted_by: 'lead' }).execute();
  const attempts = async () => Number((await db.selectFrom('process_status').select(({ fn }) => fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
  const attemptsBefore = await attempts();

  const r = await runCli(['delete-user', 'NA\\leaver', '--json'], t.env);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), {
    lanId: 'NA\\leaver',
    removed: { employee: 1, trainImages: 1, streamImages: 2, descriptors: 1, snapshotFaces: 2, alerts: 1, processStatus: 3, notifications: 0, streamFaces: 1, galleryDecisions: 6 },
    spellings: ['NA\\leaver'],
  });
  assert.equal((await db.selectFrom('identity_distinct').select('id').execute()).length, 0);
  for (const table of ['employee', 'train_img', 'stream_img', 'face_descriptor', 'snapshot_face', 'face_alert', 'stream_face', 'not_this_face', 'gallery_proposal', 'gallery_removal', 'employee_threshold', 'review_decision'] as const) {
    const rows = await db.selectFrom(table).select('lan_id').where('lan_id', 'in', ['NA\\leaver', 'NA\\stayer']).execute();
    assert.ok(rows.every((x) => x.lan_id === 'NA\\stayer') && rows.length > 0, `${table}: only the other employee's rows are left`);
  }
  assert.equal(await attempts(), attemptsBefore - 3, "only the employee's own attempts go");

  // A name no table holds is refused (issue 22): a typo must not look like a done deletion.
  const nobody = await runCli(['delete-user', 'NA\\nobody'], t.env);
  assert.equal(nobody.code, 1);
  assert.match(nobody.stderr, /LAN_ID_UNKNOWN/);
  const text = await runCli(['delete-user', 'na\\STAYER'], t.env);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /removed for "na\\\\STAYER":\n {2}employee {7}1\n/);
});

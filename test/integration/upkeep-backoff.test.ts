import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { openDatabase, parseDatabaseUrl } from '../../db/connection.ts';
import { jobKeyHash } from '../../db/repositories/transcoder.repository.ts';
import { scheduledJobRepository } from '../../db/repositories/scheduled-job.repository.ts';
import { brokerClients } from '../../shared/app/app-context.ts';
import { TransientError } from '../../shared/errors.ts';
import { createLockManager } from '../../shared/lock.ts';
import type { Publisher } from '../../shared/runtime/publisher.ts';
import { startScheduler, type Scheduler } from '../../services/upkeep/scheduler.ts';
import { upkeepJobs } from '../../services/upkeep/jobs.ts';
import { runCli } from '../helpers/cli.ts';
import { captureLogger, drainQueue } from '../helpers/runtime-harness.ts';
import { createTestEnv, type TestEnv } from '../helpers/test-env.ts';

// Findings 6 and 7 of issue 22: the scheduled rescue republishes a stuck row with back-off
// (not at every interval while its consumer is down), and a `work_pending` digest whose
// publish failed is covered by the next one. No consumer runs here: what is published stays
// in the queues, and the test drains them after each run.

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
let t: TestEnv;
let clock = Date.now();
const now = () => new Date(clock);

before(async () => {
  t = await createTestEnv('upkeepbackoff', {
    NOTIFIER_SUPERVISORS: 'sup@example.org',
    NOTIFIER_RESCUE_INTERVAL: '5m',
    NOTIFIER_DIGEST_INTERVAL: '2h',
    VIGIL_RESCUE_AGE: '10m',
  });
});

after(async () => {
  await t?.cleanup();
});

/** A scheduler running the named upkeep jobs, on its own pools and broker connection; `fail` makes every publish reject. */
async function upkeepRunner(jobNames: string[]) {
  const config = t.config;
  const db = openDatabase(config.database.url, { poolSize: 3 });
  const lockDb = openDatabase(config.database.url, { poolSize: 4 });
  const locks = createLockManager({ db: lockDb.db, namespace: parseDatabaseUrl(config.database.url).database });
  const { logger } = captureLogger('error');
  const { broker, publisher } = brokerClients(config, logger, 'upkeep-backoff-test');
  broker.start();
  await broker.waitUntilConnected(10_000);
  const control = { fail: false };
  const flaky: Pick<Publisher, 'publish'> = {
    async publish(queue, payload, opts) {
      if (control.fail) throw new TransientError('PUBLISH_UNCONFIRMED', 'the broker did not confirm the publish (test)');
      return publisher.publish(queue, payload, opts);
    },
  };
  const jobs = upkeepJobs({
    db: db.db, locks, publisher: flaky as Publisher, log: logger, config: config.upkeep, rescueAgeMs: config.rescueAgeMs, now,
    deadLetters: async () => [],
  }).filter((j) => jobNames.includes(j.name));
  assert.equal(jobs.length, jobNames.length);
  const scheduler: Scheduler = startScheduler({ jobs, locks, repo: scheduledJobRepository(db.db), runner: 'r1', log: logger, now }, { autoStart: false });
  return {
    scheduler,
    control,
    async close() {
      await scheduler.stop();
      await publisher.close();
      await broker.close();
      await Promise.all([db.close(), lockDb.close()]);
    },
  };
}

async function published(): Promise<{ train: number; stream: number; video: number }> {
  return {
    train: (await drainQueue(`${t.prefix}facetraining`)).length,
    stream: (await drainQueue(`${t.prefix}facestreaming`)).length,
    video: (await drainQueue(`${t.prefix}transcoder`)).length,
  };
}

test('orphan rescue with no consumer: each stuck row (train, stream, video job) is republished after 1, 2, 4 intervals, not at every run; the record goes once the row moves', async () => {
  const db = t.database().db;
  const captured = new Date(clock - HOUR);
  const train = Number((await db.insertInto('train_img').values({ lan_id: 'NA\\backoff', status: 'N', capture_time: captured, image: Buffer.from('x') }).executeTakeFirstOrThrow()).insertId);
  const stream = Number((await db.insertInto('stream_img').values({ lan_id: 'NA\\backoff', status: 'P', capture_time: captured, image: Buffer.from('x') }).executeTakeFirstOrThrow()).insertId);
  const job = { jobId: 'backoff', source: { bucket: 'video-avi', key: 'cam1/backoff.avi' } };
  const video = Number(
    (await db.insertInto('video_job').values({ job_key_sha256: jobKeyHash('backoff'), job_key: 'backoff', source_bucket: 'video-avi', source_key: 'cam1/backoff.avi', status: 'running', attempts: 1, job: JSON.stringify(job), started_at: captured }).executeTakeFirstOrThrow()).insertId,
  );

  const r = await upkeepRunner(['orphan_rescue']);
  try {
    // Runs every 5 min (the interval) for 40 min: republished at 0, 5, 15 and 35 min.
    const perRun: number[] = [];
    for (let i = 0; i < 8; i++) {
      assert.deepEqual(await r.scheduler.runDue(), ['orphan_rescue'], `run ${i} ran`);
      const p = await published();
      assert.ok(p.train === p.stream && p.stream === p.video, `run ${i}: each kind alike ${JSON.stringify(p)}`);
      perRun.push(p.stream);
      clock += 5 * MINUTE;
    }
    assert.deepEqual(perRun, [1, 1, 0, 1, 0, 0, 0, 1]);
    const records = await db.selectFrom('rescue_attempt').selectAll().orderBy('kind').execute();
    assert.deepEqual(records.map((x) => [x.kind, Number(x.row_id), x.attempts]), [['stream', stream, 4], ['train', train, 4], ['video', video, 4]]);
    const streamRecord = records.find((x) => x.kind === 'stream')!;
    assert.equal(streamRecord.last_at.getTime(), clock - 5 * MINUTE, 'last rescued at the last publish');
    assert.equal(streamRecord.next_at.getTime() - streamRecord.last_at.getTime(), 40 * MINUTE, 'the fourth delay is 8 intervals');

    // The rows move: the snapshot is processed, the enrolment image deleted, the video job done.
    await db.updateTable('stream_img').set({ status: 'Y', result: 'SUCCESS', processed_time: now() }).where('id', '=', stream).execute();
    await db.deleteFrom('train_img').where('id', '=', train).execute();
    await db.updateTable('video_job').set({ status: 'done' }).where('id', '=', video).execute();
    assert.deepEqual(await r.scheduler.runDue(), ['orphan_rescue']);
    assert.deepEqual(await published(), { train: 0, stream: 0, video: 0 });
    assert.deepEqual(await db.selectFrom('rescue_attempt').selectAll().execute(), [], 'records of rows that moved are forgotten');
  } finally {
    await r.close();
  }
});

test('vigil rescue republishes a backing-off row anyway, says so, and counts it in the same back-off record', async () => {
  const db = t.database().db;
  const stream = Number((await db.insertInto('stream_img').values({ lan_id: 'NA\\forced', status: 'N', capture_time: new Date(Date.now() - HOUR), image: Buffer.from('x') }).executeTakeFirstOrThrow()).insertId);
  const ours = async () => (await drainQueue(`${t.prefix}facestreaming`)).filter((m) => JSON.parse(m.body).id === stream).length;
  const attempts = async () => (await db.selectFrom('rescue_attempt').select('attempts').where('kind', '=', 'stream').where('row_id', '=', stream).executeTakeFirstOrThrow()).attempts;

  const text = await runCli(['rescue', '--older-than', '10m'], t.env);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /^republished \d+ train_img, \d+ stream_img/);
  assert.match(text.stdout, /back-off/, 'the output says the back-off was overridden');
  assert.equal(await ours(), 1);
  assert.equal(await attempts(), 1);

  // At once again: the scheduled rescue would wait an interval; the operator's does not.
  const json = await runCli(['rescue', '--older-than', '10m', '--json'], t.env);
  assert.equal(json.code, 0, json.stderr);
  const doc = JSON.parse(json.stdout);
  assert.equal(doc.forced, true);
  assert.ok(doc.stream.includes(stream));
  assert.equal(await ours(), 1);
  assert.equal(await attempts(), 2);
  await db.deleteFrom('stream_img').where('id', '=', stream).execute();
  await drainQueue(`${t.prefix}facetraining`);
  await drainQueue(`${t.prefix}transcoder`);
});

test('work_pending: a digest whose publish fails is not lost; the next run starts where the last published one ended and counts both windows', async () => {
  const db = t.database().db;
  const verdict = async () =>
    db.insertInto('stream_img').values({ lan_id: 'NA\\digest', status: 'Y', result: 'UNKNOWN_PERSON', capture_time: new Date(clock - 40 * MINUTE), processed_time: new Date(clock - 30 * MINUTE), image: null }).execute();
  const r = await upkeepRunner(['work_pending']);
  try {
    await verdict();
    const firstStart = clock;
    assert.deepEqual(await r.scheduler.runDue(), ['work_pending']);
    const first = (await drainQueue(`${t.prefix}notifier`)).map((m) => JSON.parse(m.body));
    assert.equal(first.length, 1);
    assert.deepEqual(first[0].data.counts, { UNKNOWN_PERSON: 1 });

    // The next digest's publish fails (the broker refused or never confirmed it).
    clock += 2 * HOUR + 1000;
    await verdict();
    r.control.fail = true;
    assert.deepEqual(await r.scheduler.runDue(), ['work_pending']);
    assert.deepEqual(await drainQueue(`${t.prefix}notifier`), []);
    const failed = await db.selectFrom('scheduled_job').select(['error_code']).where('name', '=', 'work_pending').executeTakeFirstOrThrow();
    assert.equal(failed.error_code, 'PUBLISH_UNCONFIRMED');

    // The one after covers the unreported window too: from the first digest's end.
    clock += 2 * HOUR + 1000;
    await verdict();
    r.control.fail = false;
    assert.deepEqual(await r.scheduler.runDue(), ['work_pending']);
    const third = (await drainQueue(`${t.prefix}notifier`)).map((m) => JSON.parse(m.body));
    assert.equal(third.length, 1);
    assert.equal(third[0].data.since, new Date(firstStart).toISOString());
    assert.deepEqual(third[0].data.counts, { UNKNOWN_PERSON: 2 });
    assert.notEqual(third[0].idempotencyKey, first[0].idempotencyKey);
  } finally {
    await r.close();
  }
});

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { openDatabase, parseDatabaseUrl, type DatabaseHandle } from '../../db/connection.ts';
import { keyHash } from '../../db/repositories/notifier.repository.ts';
import { scheduledJobRepository } from '../../db/repositories/scheduled-job.repository.ts';
import { brokerClients, topologyOptions } from '../../shared/app/app-context.ts';
import type { Config } from '../../services/config.ts';
import { CODECS } from '../../shared/contract/messages.ts';
import { createLockManager } from '../../shared/lock.ts';
import { describeTopology } from '../../shared/runtime/topology.ts';
import type { BrokerConnection } from '../../shared/runtime/connection.ts';
import { startScheduler, type ScheduledJob, type Scheduler } from '../../services/upkeep/scheduler.ts';
import { queueDepth } from '../../shared/runtime/queue-depth.ts';
import { upkeepJobs } from '../../services/upkeep/jobs.ts';
import { captureLogger, drainQueue } from '../helpers/runtime-harness.ts';
import { consoleLinks } from '../../shared/contract/console-links.ts';
import { createTestEnv, type TestEnv } from '../helpers/test-env.ts';

// The scheduled upkeep with two runners active, as two replicas of the notifier would be:
// each its own database pools, lock connections and broker connection. Each job runs once.

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
let t: TestEnv;
let clock = Date.now();
const now = () => new Date(clock);

interface Runner {
  scheduler: Scheduler;
  close(): Promise<void>;
}

async function runner(name: string, config: Config, jobs?: ScheduledJob[]): Promise<Runner> {
  const db = openDatabase(config.database.url, { poolSize: 3 });
  const lockDb: DatabaseHandle = openDatabase(config.database.url, { poolSize: 6 });
  const locks = createLockManager({ db: lockDb.db, namespace: parseDatabaseUrl(config.database.url).database });
  const { logger } = captureLogger('warn');
  const { broker, publisher } = brokerClients(config, logger, `upkeep-test ${name}`);
  broker.start();
  await broker.waitUntilConnected(10_000);
  const scheduler = startScheduler(
    {
      jobs: jobs ?? upkeepJobs({
        db: db.db, locks, publisher, log: logger, config: config.upkeep, rescueAgeMs: config.rescueAgeMs, now,
        links: config.console.url === undefined ? undefined : consoleLinks(config.console.url),
        deadLetters: () => dlqCounts(broker, config),
      }),
      locks,
      repo: scheduledJobRepository(db.db),
      runner: name,
      log: logger,
      now,
    },
    { autoStart: false },
  );
  return {
    scheduler,
    async close() {
      await scheduler.stop();
      await publisher.close();
      await broker.close();
      await Promise.all([db.close(), lockDb.close()]);
    },
  };
}

async function dlqCounts(broker: BrokerConnection, config: Config) {
  const q = describeTopology('transcoder', topologyOptions(config)).dlq;
  return [{ queue: 'transcoder.dlq', count: (await queueDepth(broker.connection!, q))?.messages ?? 0 }];
}

before(async () => {
  t = await createTestEnv('upkeep', {
    NOTIFIER_SUPERVISORS: 'sup@example.org',
    CONSOLE_URL: 'https://vigil.example/console/',
    VIGIL_RESCUE_AGE: '10m',
    VIGIL_STREAM_IMAGE_RETENTION_DAYS: '30',
  });
});

after(async () => {
  await t?.cleanup();
});

/** Both runners at once, then both again: the union of the jobs each ran. */
async function twoRounds(a: Runner, b: Runner): Promise<string[]> {
  const first = await Promise.all([a.scheduler.runDue(), b.scheduler.runDue()]);
  const second = await Promise.all([b.scheduler.runDue(), a.scheduler.runDue()]);
  return [...first.flat(), ...second.flat()].sort();
}

test('scheduler: a due job runs once across two runners, again only an interval later; a failing run is recorded', async () => {
  const runs: string[] = [];
  const job = (who: string): ScheduledJob[] => [
    { name: 'tick', intervalMs: HOUR, run: async () => void runs.push(who) },
    { name: 'broken', intervalMs: HOUR, run: async () => { throw Object.assign(new Error('boom'), { code: 'BOOM' }); } },
  ];
  const a = await runner('a', t.config, job('a'));
  const b = await runner('b', t.config, job('b'));
  try {
    assert.deepEqual(await twoRounds(a, b), ['broken', 'tick']);
    assert.equal(runs.length, 1);
    clock += HOUR;
    assert.deepEqual(await twoRounds(a, b), ['broken', 'tick']);
    assert.equal(runs.length, 2);
    const row = await t.database().db.selectFrom('scheduled_job').selectAll().where('name', '=', 'broken').executeTakeFirstOrThrow();
    assert.equal(row.runs, 2);
    assert.equal(row.error_code, 'BOOM');
    assert.ok(row.finished_at);
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
});

test('upkeep with two runners: orphan rescue, work_pending digest, dead_letters alert and retention each run once', async () => {
  const db = t.database().db;
  const recent = new Date(clock - 5 * 60_000);
  const insertStream = async (v: Record<string, unknown>) =>
    Number((await db.insertInto('stream_img').values({ lan_id: 'NA\\up', capture_time: new Date(clock - HOUR), image: Buffer.from('jpeg'), ...v } as never).executeTakeFirstOrThrow()).insertId);
  const stuck = await insertStream({ status: 'N' });
  await insertStream({ status: 'Y', result: 'UNKNOWN_PERSON', processed_time: recent });
  await insertStream({ status: 'Y', result: 'UNKNOWN_PERSON', processed_time: recent });
  await insertStream({ status: 'Y', result: 'IMPERSONATION_SUSPECTED', processed_time: recent });
  await insertStream({ status: 'Y', result: 'SUCCESS', processed_time: recent });
  const old = await insertStream({ status: 'Y', result: 'SUCCESS', processed_time: new Date(clock - 40 * DAY), capture_time: new Date(clock - 40 * DAY) });
  const oldFailed = await insertStream({ status: 'F', result: 'INVALID_IMAGE', processed_time: new Date(clock - 31 * DAY), capture_time: new Date(clock - 31 * DAY) });
  await db.insertInto('train_img').values({ lan_id: 'NA\\up', capture_time: recent, status: 'Y', result: 'NO_FACES_FOUND', processed_time: recent, image: Buffer.from('x') }).execute();
  await db.insertInto('notification').values({
    key_sha256: keyHash('folded-1'), idempotency_key: 'folded-1', key_source: 'producer', channel: 'email', recipients: '["g@example.org"]',
    folded_to: '["g@example.org"]', template: 'face_absence', status: 'folded', message_id: '<x@y>',
  }).execute();

  const a = await runner('a', t.config);
  const b = await runner('b', t.config);
  try {
    // A dead-lettered transcoder job, through Vigil's own publisher (it declares the topology).
    const { broker, publisher } = brokerClients(t.config, captureLogger('warn').logger, 'upkeep-test dlq');
    broker.start();
    await broker.waitUntilConnected(10_000);
    await publisher.sendToQueue('transcoder', CODECS.transcoder.encode({ source: { bucket: 'video-avi', key: 'x.avi' } }));
    await drainQueue(`${t.prefix}transcoder`);
    await publisher.send(describeTopology('transcoder', topologyOptions(t.config)).dlq, Buffer.from('{}'), {});
    await publisher.close();
    await broker.close();

    assert.deepEqual(await twoRounds(a, b), ['dead_letters', 'orphan_rescue', 'report_rollup', 'retention', 'work_pending']);

    assert.deepEqual((await drainQueue(`${t.prefix}facestreaming`)).map((m) => JSON.parse(m.body)), [{ id: stuck }], 'the orphan republished once');
    const notes = (await drainQueue(`${t.prefix}notifier`)).map((m) => JSON.parse(m.body));
    assert.equal(notes.length, 2, JSON.stringify(notes));
    const digest = notes.find((n) => n.template === 'work_pending');
    assert.deepEqual(digest.to, ['sup@example.org']);
    assert.equal(digest.channel, 'email');
    assert.deepEqual(digest.data.counts, { UNKNOWN_PERSON: 2, IMPERSONATION_SUSPECTED: 1, ENROLMENT_FAILED: 1 });
    assert.equal(digest.data.folded, 1);
    assert.equal(digest.data.since, new Date(clock - 2 * HOUR).toISOString());
    assert.equal(digest.data.reviewUrl, 'https://vigil.example/console/review', 'the digest links to the console\'s review queue');
    const dl = notes.find((n) => n.template === 'dead_letters');
    assert.deepEqual(dl.data.queues, [{ queue: 'transcoder.dlq', count: 1 }]);
    assert.ok(CODECS.notifier.parse(Buffer.from(JSON.stringify(dl))), 'a notification the notifier takes');

    const images = await db.selectFrom('stream_img').select(['id', 'image', 'result']).execute();
    const byId = new Map(images.map((r) => [r.id, r]));
    assert.equal(byId.get(old)!.image, null);
    assert.equal(byId.get(old)!.result, 'SUCCESS', 'the row and its result stay');
    assert.equal(byId.get(oldFailed)!.image, null);
    assert.equal(images.filter((r) => r.image !== null).length, images.length - 2);

    // Two hours later: the digest covers only what came since the last one (nothing), the
    // dead-letter counts are the same (no second alert); both jobs did run.
    clock += 2 * HOUR + 1000;
    const ran = await twoRounds(a, b);
    assert.ok(ran.includes('work_pending') && ran.includes('dead_letters'), ran.join());
    assert.deepEqual(await drainQueue(`${t.prefix}notifier`), []);
    const jobs = await db.selectFrom('scheduled_job').select(['name', 'runs']).where('name', 'in', ['work_pending', 'dead_letters']).execute();
    assert.deepEqual(jobs.map((j) => j.runs), [2, 2]);
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
});

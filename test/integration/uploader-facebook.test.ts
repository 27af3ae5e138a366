import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { uploadKeyHash } from '../../db/repositories/uploader.repository.ts';
import { loadConfig, type Config } from '../../services/config.ts';
import type { RunningApp } from '../../shared/app/run-services.ts';
import { CODECS, type UploadJob } from '../../shared/contract/messages.ts';
import { createObjectStore, type S3ObjectStore } from '../../shared/storage/object-store.ts';
import { service as uploader } from '../../services/uploader/main.ts';
import { startGraphApiServer, type GraphApiServer } from '../helpers/graph-api-server.ts';
import { captureLogger, drainQueue, metricValue, queueDepth, startApp, waitFor } from '../helpers/runtime-harness.ts';
import { startS3Server, type S3TestServer } from '../helpers/s3-server.ts';
import { createTestEnv, type TestEnv } from '../helpers/test-env.ts';
import { publishUploadJob, putRandomVideo } from '../helpers/upload-jobs.ts';

// The facebook target through the real service, RabbitMQ, MariaDB and s3rver, against a
// local server that speaks the Graph API's resumable upload (test/helpers/graph-api-server.ts).

const MIB = 1024 * 1024;
const hex = () => randomBytes(3).toString('hex');
const MP4 = `mp4-${hex()}`;
const LIB = `lib-${hex()}`;
const TOKEN = `page-token-${randomBytes(12).toString('hex')}`;

let s3: S3TestServer;
let graph: GraphApiServer;
let t: TestEnv;
let config: Config;
let app: RunningApp;
let lines: Record<string, any>[];
let store: S3ObjectStore;

before(async () => {
  s3 = await startS3Server();
  graph = await startGraphApiServer({ token: TOKEN, chunkSize: 1 * MIB });
  t = await createTestEnv('uploaderfb', {
    ...s3.env,
    BUCKET_VIDEO: MP4,
    BUCKET_LIBRARY: LIB,
    FACEBOOK_GRAPH_URL: graph.base,
    FACEBOOK_API_VERSION: graph.apiVersion,
    FACEBOOK_PAGE_ID: graph.pageId,
    FACEBOOK_PAGE_TOKEN: TOKEN,
    FACEBOOK_CHUNK_RETRIES: '1',
    FACEBOOK_CHUNK_RETRY_DELAY: '50ms',
    FACEBOOK_RATE_LIMIT_WAIT: '1h',
    UPLOADER_SWEEP_INTERVAL: '200ms',
    UPLOADER_DEFAULT_TARGETS: 'library,facebook',
    VIGIL_RETRY_DELAYS: '300ms',
    LOG_LEVEL: 'info',
  });
  config = loadConfig(t.env);
  store = createObjectStore(config.s3);
  await store.ensureBucket(MP4);
  const captured = captureLogger('info');
  lines = captured.lines;
  app = await startApp(config, [uploader], captured.logger);
  await waitFor('the consumer', () => app.consumers[0]!.attached, 30_000);
});

after(async () => {
  await app?.stop();
  store?.close();
  await t?.cleanup();
  await graph?.close();
  await s3?.close();
});

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

const putVideo = (key: string, bytes: number) => putRandomVideo(store, MP4, key, bytes);
const publish = (job: UploadJob) => publishUploadJob(t.prefix, job);

async function rowOf(job: UploadJob, target: 'library' | 'facebook'): Promise<Record<string, any> | undefined> {
  const hash = uploadKeyHash(CODECS.uploader.key(job)!, target);
  return t.database().db.selectFrom('upload').selectAll().where('key_sha256', '=', hash).executeTakeFirst();
}

async function settled(job: UploadJob, target: 'library' | 'facebook', statuses = ['done', 'failed'], timeoutMs = 60_000): Promise<Record<string, any>> {
  let row: Record<string, any> | undefined;
  await waitFor(`${job.source.key} to ${target}: ${statuses.join('/')}`, async () => {
    row = await rowOf(job, target);
    return row !== undefined && statuses.includes(row.status) && app.consumers[0]!.inFlightCount === 0;
  }, timeoutMs);
  return row!;
}

const calls = (phase: string) => graph.requests.filter((r) => r.phase === phase).length;
const outcomes = (outcome: string) => metricValue(app.app.metrics, 'vigil_messages_total', { service: 'uploader', outcome });

test('both targets: the video streams from S3 to the Page, the permalink and library link are recorded and mailed to each speaker once; a redelivery uploads nothing again', async () => {
  const key = `talks/metrics-${hex()}.mp4`;
  const data = await putVideo(key, 3.5 * MIB);
  const job: UploadJob = {
    source: { bucket: MP4, key },
    title: 'Right metrics and wrong metrics',
    description: 'Why some numbers mislead.',
    speakers: [{ name: 'Ada Lovelace', email: 'ada@example.org' }, { name: 'Charles Babbage', email: 'charles@example.org' }],
  };
  const starts = calls('start');
  await publish(job);
  const fb = await settled(job, 'facebook');
  const lib = await settled(job, 'library');
  assert.equal(fb.status, 'done', fb.last_error);
  assert.equal(lib.status, 'done', lib.last_error);
  assert.equal(calls('start') - starts, 1);
  const video = graph.video(fb.remote_id)!;
  assert.equal(video.published, true);
  assert.equal(video.sha256, sha(data));
  assert.equal(video.title, job.title);
  // multipart/form-data sends line breaks as CRLF.
  assert.equal(video.description?.replace(/\r\n/g, '\n'), 'Why some numbers mislead.\n\nSpeakers: Ada Lovelace, Charles Babbage');
  assert.match(fb.url, /^https?:\/\//);
  assert.equal(fb.source_bytes, data.length);
  assert.ok(graph.requests.every((r) => r.tokenPresent && !r.tokenInUrl), 'the token goes in a header, never the URL');

  const firstId = Math.min(fb.id, lib.id);
  const links = { library: lib.url, facebook: fb.url };
  const mails = (await drainQueue(`${t.prefix}notifier`)).map((m) => JSON.parse(m.body));
  assert.deepEqual(mails, [
    { channel: 'email', to: ['ada@example.org'], template: 'video_published', data: { name: 'Ada Lovelace', title: job.title, url: fb.url, links }, idempotencyKey: `vigil:upload-${firstId}-0` },
    { channel: 'email', to: ['charles@example.org'], template: 'video_published', data: { name: 'Charles Babbage', title: job.title, url: fb.url, links }, idempotencyKey: `vigil:upload-${firstId}-1` },
  ]);

  const duplicates = await outcomes('duplicate');
  await publish(job);
  await waitFor('the redelivery', async () => (await outcomes('duplicate')) === duplicates + 1, 30_000);
  assert.equal(calls('start') - starts, 1, 'no second upload');
  assert.equal((await rowOf(job, 'facebook'))!.attempts, 1);
  assert.deepEqual(await drainQueue(`${t.prefix}notifier`), [], 'the speakers were mailed once');
});

test('rate limited (code 32): postponed until the usage header\'s time, the message acked and the library target done; other jobs go on; the sweeper queues it again and it completes', async () => {
  const key = `limited-${hex()}.mp4`;
  const data = await putVideo(key, 2 * MIB);
  const job: UploadJob = { source: { bucket: MP4, key }, title: 'Throttled', speakers: [{ name: 'Ada', email: 'ada@example.org' }] };
  // 0.1 minute: 6 s.
  graph.rateLimitNext({ code: 32, usageHeader: { minutes: 0.1 }, phase: 'start' });
  const t0 = Date.now();
  await publish(job);
  const postponed = await settled(job, 'facebook', ['postponed']);
  const t1 = Date.now();
  assert.equal(postponed.postponements, 1);
  assert.equal(postponed.last_error_code, 'FACEBOOK_RATE_LIMITED');
  const due = new Date(postponed.next_attempt_at).getTime();
  assert.ok(due >= t0 + 6_000 - 50 && due <= t1 + 6_000 + 50, `next attempt ${due - t0} ms after the publish`);
  assert.equal((await settled(job, 'library')).status, 'done');
  await waitFor('the message acked', async () => (await queueDepth(`${t.prefix}uploader`)) === 0 && app.consumers[0]!.inFlightCount === 0, 10_000);
  assert.deepEqual(await drainQueue(`${t.prefix}notifier`), [], 'not every target is done yet');

  // The consumer is free meanwhile: another job's upload completes while this one waits.
  const other: UploadJob = { source: { bucket: MP4, key: `other-${hex()}.mp4` }, title: 'Not throttled', targets: ['facebook'] };
  await putVideo(other.source.key, 1 * MIB);
  await publish(other);
  assert.equal((await settled(other, 'facebook')).status, 'done');
  assert.equal((await rowOf(job, 'facebook'))!.status, 'postponed');

  const done = await settled(job, 'facebook', ['done', 'failed'], 60_000);
  assert.equal(done.status, 'done', done.last_error);
  assert.equal(done.postponements, 1);
  assert.equal(graph.video(done.remote_id)!.sha256, sha(data));
  const mails = (await drainQueue(`${t.prefix}notifier`)).map((m) => JSON.parse(m.body));
  assert.equal(mails.length, 1);
  assert.equal(mails[0].data.url, done.url);
});

test('the seed\'s bare HTTP 400 postpones by FACEBOOK_RATE_LIMIT_WAIT when the API names no time', async () => {
  const key = `bare-${hex()}.mp4`;
  await putVideo(key, 1 * MIB);
  const job: UploadJob = { source: { bucket: MP4, key }, title: 'Bare 400', targets: ['facebook'] };
  graph.bare400Next({ phase: 'start' });
  const t0 = Date.now();
  await publish(job);
  const row = await settled(job, 'facebook', ['postponed']);
  const due = new Date(row.next_attempt_at).getTime();
  assert.ok(due >= t0 + 3_600_000 - 50 && due <= Date.now() + 3_600_000 + 50, `next attempt ${due - t0} ms after the publish`);
  assert.equal(row.attempts, 1);
});

test('an interrupted transfer resumes at the offset the API returns, within the attempt and across a retry of the job, never starting a new session', async () => {
  const key = `cut-${hex()}.mp4`;
  const data = await putVideo(key, 4.5 * MIB);
  const job: UploadJob = { source: { bucket: MP4, key }, title: 'Cut', targets: ['facebook'] };
  const from = graph.requests.length;
  // The first cut loses the answer after the chunk was taken: the API has moved on.
  graph.cutNextTransfer({ afterBytes: 1 * MIB, afterCommit: true });
  // Two more in a row exhaust FACEBOOK_CHUNK_RETRIES (1): the attempt fails and the queue retries the job.
  graph.cutNextTransfer({ afterBytes: 200_000 });
  graph.cutNextTransfer({ afterBytes: 300_000 });
  await publish(job);
  const row = await settled(job, 'facebook');
  assert.equal(row.status, 'done', row.last_error);
  assert.equal(row.attempts, 2, 'one retry of the job');
  const mine = graph.requests.slice(from);
  assert.equal(mine.filter((r) => r.phase === 'start').length, 1, 'one session for the whole upload');
  const transfers = mine.filter((r) => r.phase === 'transfer');
  assert.equal(transfers.filter((r) => r.outcome === 'cut').length, 3);
  // Every chunk after the first is sent at an offset the API returned, each byte range accepted once.
  const accepted = transfers.filter((r) => r.outcome === 'ok').map((r) => r.startOffset);
  assert.deepEqual(accepted, [...new Set(accepted)]);
  assert.ok(!transfers.slice(1).some((r) => r.startOffset === 0 && r.outcome === 'ok'), 'never sent from the start again');
  assert.equal(graph.video(row.remote_id)!.sha256, sha(data));
});

test('an expired token fails the target for good after one Graph call: recorded, rejected, not retried, and the token is in no log line or row', async () => {
  const key = `expired-${hex()}.mp4`;
  await putVideo(key, 1 * MIB);
  const job: UploadJob = { source: { bucket: MP4, key }, title: 'Expired', targets: ['library', 'facebook'] };
  graph.expireToken();
  const from = graph.requests.length;
  const rejected = await outcomes('rejected');
  await publish(job);
  const row = await settled(job, 'facebook');
  await waitFor('the message rejected', async () => (await outcomes('rejected')) === rejected + 1, 10_000);
  assert.equal(row.status, 'failed');
  assert.equal(row.last_error_code, 'FACEBOOK_AUTH');
  assert.equal(row.attempts, 1);
  assert.equal((await settled(job, 'library')).status, 'done', 'the other target still ran');
  // A rejected message is not retried: no retry queue holds it, and no second call came.
  await waitFor('the retry queue empty', async () => (await queueDepth(`${t.prefix}uploader`)) === 0 && app.consumers[0]!.inFlightCount === 0, 10_000);
  assert.equal(graph.requests.length - from, 1, 'exactly one Graph call');
  const logged = JSON.stringify(lines);
  assert.ok(!logged.includes(TOKEN), 'the token is not logged');
  const rows = await t.database().db.selectFrom('upload').selectAll().execute();
  assert.ok(!JSON.stringify(rows).includes(TOKEN), 'the token is in no row');
  assert.match(logged, /FACEBOOK_AUTH/);
});

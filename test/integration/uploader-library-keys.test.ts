import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { uploadKeyHash } from '../../db/repositories/uploader.repository.ts';
import { loadConfig } from '../../services/config.ts';
import type { RunningApp } from '../../shared/app/run-services.ts';
import { CODECS, type UploadJob } from '../../shared/contract/messages.ts';
import { createObjectStore, type S3ObjectStore } from '../../shared/storage/object-store.ts';
import { service as uploader } from '../../services/uploader/main.ts';
import { captureLogger, drainQueue, startApp, waitFor } from '../helpers/runtime-harness.ts';
import { startS3Server, type S3TestServer } from '../helpers/s3-server.ts';
import { createTestEnv, type TestEnv } from '../helpers/test-env.ts';
import { publishUploadJob, putRandomVideo } from '../helpers/upload-jobs.ts';

// Which library key a job writes, and what it may overwrite: two source buckets with the
// same key, an object already at the key that Vigil did not write, and a source key too
// long for the library's keys once the bucket and `.json` are added.

const hex = () => randomBytes(3).toString('hex');
const MP4 = `mp4-${hex()}`;
const EXTRA = `extra-${hex()}`;
const LIB = `lib-${hex()}`;
const PUBLIC = 'https://videos.example.org/library';

let s3: S3TestServer;
let t: TestEnv;
let store: S3ObjectStore;
let app: RunningApp;

before(async () => {
  s3 = await startS3Server();
  t = await createTestEnv('uploaderkeys', { ...s3.env, BUCKET_VIDEO: MP4, BUCKET_LIBRARY: LIB, UPLOADER_SOURCE_BUCKETS: EXTRA, LIBRARY_PUBLIC_URL: PUBLIC, LOG_LEVEL: 'info' });
  const config = loadConfig(t.env);
  store = createObjectStore(config.s3);
  await Promise.all([store.ensureBucket(MP4), store.ensureBucket(EXTRA), store.ensureBucket(LIB)]);
  app = await startApp(config, [uploader], captureLogger('info').logger);
  await waitFor('the consumer', () => app.consumers[0]!.attached, 30_000);
});

after(async () => {
  await app?.stop();
  store?.close();
  await t?.cleanup();
  await s3?.close();
});

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function settled(job: UploadJob, target: 'library' | 'facebook' = 'library'): Promise<Record<string, any>> {
  const hash = uploadKeyHash(CODECS.uploader.key(job)!, target);
  let row: Record<string, any> | undefined;
  await waitFor(`upload of ${job.source.bucket}/${job.source.key.slice(0, 40)} to ${target}`, async () => {
    row = await t.database().db.selectFrom('upload').selectAll().where('key_sha256', '=', hash).executeTakeFirst();
    return row !== undefined && ['done', 'failed'].includes(row.status) && app.consumers[0]!.inFlightCount === 0;
  }, 60_000);
  return row!;
}

async function bytesOf(bucket: string, key: string): Promise<Buffer> {
  const info = await store.head(bucket, key);
  assert.ok(info, `${bucket}/${key} exists`);
  return store.readRange(bucket, key, 0, info.size);
}

async function libraryKeys(): Promise<string[]> {
  const keys: string[] = [];
  for await (const page of store.list(LIB)) keys.push(...page.map((o) => o.key));
  return keys;
}

test('the same key in two source buckets: two library objects, two links, each speaker mailed the link of their own talk', async () => {
  const key = `talks/keynote-${hex()}.mp4`;
  const alice = await putRandomVideo(store, MP4, key, 64 * 1024);
  const bob = await putRandomVideo(store, EXTRA, key, 64 * 1024);
  const aliceJob: UploadJob = { source: { bucket: MP4, key }, title: "Alice's keynote", speakers: [{ name: 'Alice', email: 'alice@example.org' }] };
  const bobJob: UploadJob = { source: { bucket: EXTRA, key }, title: "Bob's keynote", speakers: [{ name: 'Bob', email: 'bob@example.org' }] };
  await publishUploadJob(t.prefix, aliceJob);
  const a = await settled(aliceJob);
  await publishUploadJob(t.prefix, bobJob);
  const b = await settled(bobJob);
  assert.equal(a.status, 'done', a.last_error);
  assert.equal(b.status, 'done', b.last_error);
  assert.notEqual(a.url, b.url, 'two talks, two links');
  assert.equal(a.url, `${PUBLIC}/${MP4}/${key}`);
  assert.equal(b.url, `${PUBLIC}/${EXTRA}/${key}`);
  assert.equal(sha(await bytesOf(LIB, `${MP4}/${key}`)), sha(alice));
  assert.equal(sha(await bytesOf(LIB, `${EXTRA}/${key}`)), sha(bob));
  assert.equal(JSON.parse((await bytesOf(LIB, `${MP4}/${key}.json`)).toString()).title, aliceJob.title);
  assert.equal(JSON.parse((await bytesOf(LIB, `${EXTRA}/${key}.json`)).toString()).title, bobJob.title);
  const mails = (await drainQueue(`${t.prefix}notifier`)).map((m) => JSON.parse(m.body));
  const to = (who: string) => mails.find((m) => m.to[0] === who)!;
  assert.equal(mails.length, 2);
  assert.equal(to('alice@example.org').data.url, a.url);
  assert.equal(to('alice@example.org').data.title, aliceJob.title);
  assert.equal(to('bob@example.org').data.url, b.url);
});

test('an object at the library key that Vigil did not write is never replaced: LIBRARY_KEY_TAKEN, recorded, nothing written, nobody mailed; objects at the old-style key are left alone', async () => {
  const key = `talks/taken-${hex()}.mp4`;
  await putRandomVideo(store, MP4, key, 64 * 1024);
  // Someone else's object where this job's copy would go, and one where the copy went
  // before library keys named the source bucket (a link already mailed points there).
  const theirs = await putRandomVideo(store, LIB, `${MP4}/${key}`, 4096);
  const legacy = await putRandomVideo(store, LIB, key, 4096);
  const job: UploadJob = { source: { bucket: MP4, key }, title: 'Taken', speakers: [{ name: 'Ada', email: 'ada@example.org' }] };
  await publishUploadJob(t.prefix, job);
  const row = await settled(job);
  assert.equal(row.status, 'failed');
  assert.equal(row.last_error_code, 'LIBRARY_KEY_TAKEN');
  assert.match(row.last_error, /not written by Vigil for this source/);
  assert.equal(sha(await bytesOf(LIB, `${MP4}/${key}`)), sha(theirs), 'the object there is untouched');
  assert.equal(sha(await bytesOf(LIB, key)), sha(legacy), 'the old-style object is untouched');
  assert.equal(await store.exists(LIB, `${MP4}/${key}.json`), false, 'no sidecar written');
  assert.deepEqual(await drainQueue(`${t.prefix}notifier`), []);
});

test('a 1,022-byte source key: every key the job would write is checked first; the job is refused with LIBRARY_KEY_TOO_LONG and nothing is written', async () => {
  const key = `${['a', 'b', 'c', 'd'].map((c) => c.repeat(200)).join('/')}/${'e'.repeat(1022 - 804 - 4 - 10)}-${hex()}${hex().slice(0, 3)}.mp4`;
  assert.equal(Buffer.byteLength(key), 1022);
  await putRandomVideo(store, MP4, key, 64 * 1024);
  const before = await libraryKeys();
  const job: UploadJob = { source: { bucket: MP4, key }, title: 'Long', targets: ['library', 'facebook'], speakers: [{ name: 'Ada', email: 'ada@example.org' }] };
  await publishUploadJob(t.prefix, job);
  for (const target of ['library', 'facebook'] as const) {
    const row = await settled(job, target);
    assert.equal(row.status, 'failed', target);
    assert.equal(row.last_error_code, 'LIBRARY_KEY_TOO_LONG', `${target}: ${row.last_error}`);
    assert.match(row.last_error, /1024/);
  }
  assert.deepEqual(await libraryKeys(), before, 'nothing was written to the library');
  assert.deepEqual(await drainQueue(`${t.prefix}notifier`), []);
});

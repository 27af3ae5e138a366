import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { uploadKeyHash } from '../../db/repositories/uploader.repository.ts';
import { loadConfig, type Config } from '../../services/config.ts';
import type { RunningApp } from '../../shared/app/run-services.ts';
import { CODECS, type UploadJob } from '../../shared/contract/messages.ts';
import { createObjectStore, type S3ObjectStore } from '../../shared/storage/object-store.ts';
import { service as uploader } from '../../services/uploader/main.ts';
import { captureLogger, drainQueue, metricValue, startApp, waitFor } from '../helpers/runtime-harness.ts';
import { startS3Server, type S3TestServer } from '../helpers/s3-server.ts';
import { TcpProxy } from '../helpers/tcp-proxy.ts';
import { createTestEnv, type TestEnv } from '../helpers/test-env.ts';
import { publishUploadJob, putRandomVideo } from '../helpers/upload-jobs.ts';

// The library target against real S3-protocol servers. The videos' store is the
// @20minutes/s3rver fork, which implements UploadPartCopy (s3rver 3.x answers it
// NotImplemented); the service reaches it through a TCP proxy that counts the bytes it
// receives, which is how a server-side copy is told from a download and upload.

const MIB = 1024 * 1024;
const hex = () => randomBytes(3).toString('hex');
const MP4 = `mp4-${hex()}`;
const LIB = `lib-${hex()}`;
const PUBLIC = 'https://videos.example.org/library';

let s3: S3TestServer;
let other: S3TestServer;
let proxy: TcpProxy;
let t: TestEnv;
let store: S3ObjectStore;
let otherStore: S3ObjectStore;

before(async () => {
  [s3, other] = await Promise.all([startS3Server(), startS3Server()]);
  proxy = await TcpProxy.start(Number(new URL(s3.endpoint).port));
  t = await createTestEnv('uploaderlib', { ...s3.env, BUCKET_VIDEO: MP4, BUCKET_LIBRARY: LIB, LOG_LEVEL: 'info' });
  store = createObjectStore(loadConfig(t.env).s3);
  otherStore = createObjectStore(loadConfig(other.env).s3);
  await store.ensureBucket(MP4);
});

after(async () => {
  store?.close();
  otherStore?.close();
  await t?.cleanup();
  await proxy?.close();
  await s3?.close();
  await other?.close();
});

/** Runs the uploader with these variables (the store through the proxy) until `fn` is done. */
async function withUploader<T>(env: Record<string, string>, fn: (app: RunningApp, config: Config) => Promise<T>): Promise<{ value: T; lines: Record<string, any>[] }> {
  const config = loadConfig({ ...t.env, S3_ENDPOINT: proxy.url(s3.endpoint), ...env });
  const { logger, lines } = captureLogger('info');
  const app = await startApp(config, [uploader], logger);
  try {
    await waitFor('the consumer', () => app.consumers[0]!.attached, 30_000);
    return { value: await fn(app, config), lines };
  } finally {
    await app.stop();
  }
}

const putVideo = (key: string, bytes: number) => putRandomVideo(store, MP4, key, bytes);
const publish = (job: UploadJob) => publishUploadJob(t.prefix, job);

async function settled(app: RunningApp, job: UploadJob, target = 'library'): Promise<Record<string, any>> {
  const hash = uploadKeyHash(CODECS.uploader.key(job)!, target as 'library');
  let row: Record<string, any> | undefined;
  await waitFor(`upload of ${job.source.key} to ${target}`, async () => {
    row = await t.database().db.selectFrom('upload').selectAll().where('key_sha256', '=', hash).executeTakeFirst();
    return row !== undefined && ['done', 'failed'].includes(row.status) && app.consumers[0]!.inFlightCount === 0;
  }, 60_000);
  return row!;
}

async function bytesOf(s: S3ObjectStore, bucket: string, key: string): Promise<Buffer> {
  const info = await s.head(bucket, key);
  assert.ok(info, `${bucket}/${key} exists`);
  return s.readRange(bucket, key, 0, info.size);
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

test('same store: a server-side CopyObject with metadata and a sidecar; the bytes never reach the uploader; the speakers get the library link', async () => {
  const key = `talks/Ünïcode talk ${hex()}.mp4`;
  const data = await putVideo(key, 3 * MIB);
  const job: UploadJob = {
    source: { bucket: MP4, key },
    title: 'Métriques justes — “right” metrics',
    description: 'A talk about measures.',
    speakers: [{ name: 'Ada Lovelace', email: 'ada@example.org' }, { name: 'No Mail' }, { name: 'Grace Hopper', email: 'grace@example.org' }],
  };
  const { value: row } = await withUploader({ LIBRARY_PUBLIC_URL: PUBLIC }, async (app) => {
    const before = proxy.bytesFromTarget;
    let traffic = '';
    proxy.tap = (chunk) => (traffic += chunk.toString('latin1'));
    await publish(job);
    const r = await settled(app, job);
    proxy.tap = undefined;
    // Replies to HEADs, the copy and the sidecar's PUT: a few KB, not the 3 MiB video.
    assert.ok(proxy.bytesFromTarget - before < 256 * 1024, `the uploader received ${proxy.bytesFromTarget - before} bytes`);
    assert.equal([...traffic.matchAll(/^x-amz-copy-source: /gim)].length, 1, 'one CopyObject');
    assert.doesNotMatch(traffic, /^GET /m, 'no GET of the object');
    return r;
  });
  assert.equal(row.status, 'done', row.last_error);
  assert.equal(row.attempts, 1);
  assert.equal(row.source_bytes, data.length);
  // Under the source's bucket: the same key in another source bucket is another talk.
  assert.equal(row.url, `${PUBLIC}/${MP4}/talks/%C3%9Cn%C3%AFcode%20talk%20${key.slice(-10, -4)}.mp4`);
  assert.equal(sha(await bytesOf(store, LIB, `${MP4}/${key}`)), sha(data));
  const head = (await store.head(LIB, `${MP4}/${key}`))!;
  assert.equal(head.contentType, 'video/mp4');
  assert.equal(decodeURIComponent(head.metadata['vigil-title']!), job.title);
  assert.equal(decodeURIComponent(head.metadata['vigil-speakers']!), 'Ada Lovelace, No Mail, Grace Hopper');
  assert.ok(/^[\x20-\x7e]*$/.test(Object.values(head.metadata).join('')), 'metadata is ASCII');
  const sidecar = JSON.parse((await bytesOf(store, LIB, `${MP4}/${key}.json`)).toString());
  assert.deepEqual(sidecar, {
    title: job.title,
    description: job.description,
    speakers: [{ name: 'Ada Lovelace' }, { name: 'No Mail' }, { name: 'Grace Hopper' }],
    source: { bucket: MP4, key, etag: head.metadata['vigil-source-etag'] },
  });

  const mails = (await drainQueue(`${t.prefix}notifier`)).map((m) => JSON.parse(m.body));
  assert.deepEqual(mails, [
    { channel: 'email', to: ['ada@example.org'], template: 'video_published', data: { name: 'Ada Lovelace', title: job.title, url: row.url, links: { library: row.url } }, idempotencyKey: `vigil:upload-${row.id}-0` },
    { channel: 'email', to: ['grace@example.org'], template: 'video_published', data: { name: 'Grace Hopper', title: job.title, url: row.url, links: { library: row.url } }, idempotencyKey: `vigil:upload-${row.id}-2` },
  ]);
});

test('above the multipart threshold: UploadPartCopy parts, the same bytes, still nothing downloaded; a redelivery, or a rerun after a crash before the record, copies nothing again', async () => {
  const key = `big-${hex()}.mp4`;
  const data = await putVideo(key, 12 * MIB + 12345);
  const job: UploadJob = { source: { bucket: MP4, key }, title: 'Big talk', targets: ['library'] };
  const env = { LIBRARY_MULTIPART_COPY_ABOVE: '5MiB', LIBRARY_COPY_PART_SIZE: '5MiB' };
  const { value: row } = await withUploader(env, async (app) => {
    const before = proxy.bytesFromTarget;
    let parts = '';
    proxy.tap = (chunk) => (parts += chunk.toString('latin1'));
    await publish(job);
    const r = await settled(app, job);
    proxy.tap = undefined;
    assert.ok(proxy.bytesFromTarget - before < 256 * 1024, `the uploader received ${proxy.bytesFromTarget - before} bytes`);
    // Three UploadPartCopy requests, one per 5 MiB range of the source.
    const ranges = [...parts.matchAll(/x-amz-copy-source-range: bytes=(\d+)-(\d+)/gi)].map((m) => [Number(m[1]), Number(m[2])]).sort((a, b) => a[0]! - b[0]!);
    assert.deepEqual(ranges, [[0, 5 * MIB - 1], [5 * MIB, 10 * MIB - 1], [10 * MIB, data.length - 1]]);
    // The same job again: the row is done, nothing is copied or mailed.
    const sentBefore = proxy.bytesToTarget;
    await publish(job);
    await waitFor('the duplicate', async () => (await metricValue(app.app.metrics, 'vigil_messages_total', { service: 'uploader', outcome: 'duplicate' })) === 1, 30_000);
    assert.ok(proxy.bytesToTarget - sentBefore < 8 * 1024, 'the redelivery made no copy');
    // A process that died after the copy but before recording it left the row running:
    // the copy already there from the same source is kept, not made again.
    await t.database().db.updateTable('upload').set({ status: 'running' }).where('id', '=', r.id).execute();
    let traffic = '';
    proxy.tap = (chunk) => (traffic += chunk.toString('latin1'));
    await publish(job);
    const again = await settled(app, job);
    proxy.tap = undefined;
    assert.equal(again.status, 'done');
    assert.equal(again.attempts, 2);
    assert.doesNotMatch(traffic, /^x-amz-copy-source/im, 'no copy request');
    return r;
  });
  assert.equal(row.status, 'done', row.last_error);
  assert.equal(row.attempts, 1);
  const copied = await bytesOf(store, LIB, `${MP4}/${key}`);
  assert.equal(copied.length, data.length);
  assert.equal(sha(copied), sha(data));
  assert.equal((await store.head(LIB, `${MP4}/${key}`))!.metadata['vigil-title'], 'Big%20talk');
});

test('another store: the copy is streamed there; metadata and sidecar are written to it', async () => {
  const key = `cross-${hex()}.mp4`;
  const data = await putVideo(key, 9 * MIB);
  const job: UploadJob = { source: { bucket: MP4, key }, title: 'Elsewhere', speakers: [{ name: 'Ada', email: 'ada@example.org' }] };
  const o = other.env;
  const { value: row } = await withUploader(
    { LIBRARY_S3_ENDPOINT: o.S3_ENDPOINT, LIBRARY_S3_ACCESS_KEY_ID: o.S3_ACCESS_KEY_ID, LIBRARY_S3_SECRET_ACCESS_KEY: o.S3_SECRET_ACCESS_KEY },
    (app) => publish(job).then(() => settled(app, job)),
  );
  assert.equal(row.status, 'done', row.last_error);
  assert.equal(row.url, `${o.S3_ENDPOINT}/${LIB}/${MP4}/${key}`);
  assert.equal(sha(await bytesOf(otherStore, LIB, `${MP4}/${key}`)), sha(data));
  assert.equal((await otherStore.head(LIB, `${MP4}/${key}`))!.metadata['vigil-title'], 'Elsewhere');
  assert.equal(JSON.parse((await bytesOf(otherStore, LIB, `${MP4}/${key}.json`)).toString()).title, 'Elsewhere');
  assert.equal(await store.exists(LIB, `${MP4}/${key}`), false, 'nothing went to the videos store\'s library bucket');
  await drainQueue(`${t.prefix}notifier`);
});

test('a missing source fails for good with a clear error, recorded; a job naming facebook without FACEBOOK_* fails that target only', async () => {
  const missing: UploadJob = { source: { bucket: MP4, key: `gone-${hex()}.mp4` }, title: 'Gone' };
  const key = `fb-${hex()}.mp4`;
  await putVideo(key, 1 * MIB);
  const both: UploadJob = { source: { bucket: MP4, key }, title: 'Both', targets: ['library', 'facebook'], speakers: [{ name: 'Ada', email: 'ada@example.org' }] };
  await withUploader({}, async (app) => {
    await publish(missing);
    const row = await settled(app, missing);
    assert.equal(row.status, 'failed');
    assert.equal(row.last_error_code, 'OBJECT_NOT_FOUND');
    assert.equal(row.attempts, 1);
    await publish(both);
    const lib = await settled(app, both, 'library');
    const fb = await settled(app, both, 'facebook');
    assert.equal(lib.status, 'done');
    assert.equal(fb.status, 'failed');
    assert.equal(fb.last_error_code, 'FACEBOOK_NOT_CONFIGURED');
    assert.match(fb.last_error, /FACEBOOK_PAGE_ID and FACEBOOK_PAGE_TOKEN/);
  });
  // Not every target succeeded: nobody is mailed.
  assert.deepEqual(await drainQueue(`${t.prefix}notifier`), []);
});

test('a job naming a bucket other than BUCKET_VIDEO and UPLOADER_SOURCE_BUCKETS publishes nothing: every target failed for good, saying why', async () => {
  const FRAMES = `frames-${hex()}`;
  await store.ensureBucket(FRAMES);
  await store.upload(FRAMES, 'private.jpg', Readable.from([randomBytes(2048)]));
  const job: UploadJob = { source: { bucket: FRAMES, key: 'private.jpg' }, title: 'Not a talk', targets: ['library', 'facebook'] };
  await withUploader({}, async (app) => {
    await publish(job);
    for (const target of ['library', 'facebook']) {
      const row = await settled(app, job, target);
      assert.equal(row.status, 'failed');
      assert.equal(row.last_error_code, 'SOURCE_BUCKET_NOT_ALLOWED');
      assert.match(row.last_error, new RegExp(`not from bucket ${FRAMES}`));
    }
  });
  assert.equal(await store.exists(LIB, 'private.jpg'), false);
  assert.equal(await store.exists(LIB, `${FRAMES}/private.jpg`), false);
});

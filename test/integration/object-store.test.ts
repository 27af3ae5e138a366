import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { after, before, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import type { S3Client } from '@aws-sdk/client-s3';
import { loadConfig, type Config } from '../../services/config.ts';
import { PermanentError, TransientError, VigilError } from '../../shared/errors.ts';
import { S3ObjectStore, createObjectStore } from '../../shared/storage/object-store.ts';
import { createS3Client, type S3ClientOptions } from '../../shared/storage/s3-client.ts';
import { startS3Server, type S3TestServer } from '../helpers/s3-server.ts';

const MIB = 1024 * 1024;

let server: S3TestServer;
let s3: Config['s3'];
let work: string;
let client: S3Client;
let store: S3ObjectStore;
/** Commands sent by `client`, by name: shows which uploads went multipart. */
const sent = new Map<string, number>();
const clients: S3Client[] = [];

function bucketName(label: string): string {
  return `t-${label}-${randomBytes(4).toString('hex')}`;
}

function newClient(config: Config['s3'] = s3, opts: S3ClientOptions = {}): S3Client {
  const c = createS3Client(config, opts);
  clients.push(c);
  return c;
}

async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function assertRejectsWith(p: Promise<unknown>, cls: typeof PermanentError | typeof TransientError, code: string): Promise<VigilError> {
  let caught: unknown;
  await p.then(() => assert.fail(`expected ${code}`), (err: unknown) => (caught = err));
  assert.ok(caught instanceof cls, `expected ${cls.name} ${code}, got ${String(caught)}`);
  assert.equal((caught as VigilError).code, code);
  return caught as VigilError;
}

async function collect(it: AsyncIterable<{ key: string }[]>): Promise<string[][]> {
  const pages: string[][] = [];
  for await (const page of it) pages.push(page.map((o) => o.key));
  return pages;
}

before(async () => {
  server = await startS3Server();
  s3 = loadConfig(server.env).s3;
  work = await mkdtemp(join(tmpdir(), 'vigil-store-test-'));
  client = newClient();
  client.middlewareStack.add(
    (next, context) => (args) => {
      const name = context.commandName ?? '?';
      sent.set(name, (sent.get(name) ?? 0) + 1);
      return next(args);
    },
    { step: 'initialize', name: 'countCommands' },
  );
  store = new S3ObjectStore(client, { createBuckets: s3.createBuckets, region: s3.region });
});

after(async () => {
  for (const c of clients) c.destroy();
  await server?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

test('ensureBucket creates a missing bucket once, and concurrent callers agree', async () => {
  const bucket = bucketName('ensure');
  await store.ensureBucket(bucket);
  const heads = sent.get('HeadBucketCommand');
  await store.ensureBucket(bucket);
  assert.equal(sent.get('HeadBucketCommand'), heads, 'a known bucket is not checked again');

  // Two processes racing to create the same bucket.
  const racing = bucketName('race');
  const a = createObjectStore(s3);
  const b = createObjectStore(s3);
  try {
    await Promise.all([a.ensureBucket(racing), b.ensureBucket(racing), a.ensureBucket(racing)]);
  } finally {
    a.close();
    b.close();
  }
  await store.upload(racing, 'x.txt', Readable.from([Buffer.from('x')]));
  assert.equal((await store.head(racing, 'x.txt'))?.size, 1);

  const strict = new S3ObjectStore(newClient(), { createBuckets: false });
  await strict.ensureBucket(bucket);
  await assertRejectsWith(strict.ensureBucket(bucketName('absent')), PermanentError, 'BUCKET_NOT_FOUND');
});

test('a small file goes up in one request and comes back byte for byte, with its metadata', async () => {
  const bucket = bucketName('small');
  await store.ensureBucket(bucket);
  const data = randomBytes(10_000);
  const src = join(work, 'small-src.bin');
  await writeFile(src, data);
  const before = { put: sent.get('PutObjectCommand') ?? 0, parts: sent.get('UploadPartCommand') ?? 0 };
  const { etag } = await store.upload(bucket, 'cam1/1511893800_f000010.jpg', src, { contentType: 'image/jpeg', metadata: { job: 'j-1' } });
  assert.equal(sent.get('PutObjectCommand'), before.put + 1);
  assert.equal(sent.get('UploadPartCommand') ?? 0, before.parts);
  assert.ok(etag);

  const info = await store.head(bucket, 'cam1/1511893800_f000010.jpg');
  assert.ok(info);
  assert.equal(info.size, data.length);
  assert.equal(info.contentType, 'image/jpeg');
  assert.deepEqual(info.metadata, { job: 'j-1' });
  assert.equal(info.etag, etag);
  assert.equal(await store.exists(bucket, 'cam1/1511893800_f000010.jpg'), true);

  const dst = join(work, 'small-dst.bin');
  const got = await store.download(bucket, 'cam1/1511893800_f000010.jpg', dst);
  assert.equal(got.size, data.length);
  assert.equal(sha256(await readFile(dst)), sha256(data));
});

test('put sends a body from memory as one PutObject, and refuses a body over one MiB before any request', async () => {
  const bucket = bucketName('put');
  await store.ensureBucket(bucket);
  const data = randomBytes(20_000);
  const before = sent.get('PutObjectCommand') ?? 0;
  const { etag } = await store.put(bucket, 'cam1/cam1_f000020.jpg', data, { contentType: 'image/jpeg', metadata: { job: 'j-2' } });
  assert.equal(sent.get('PutObjectCommand'), before + 1);
  const info = await store.head(bucket, 'cam1/cam1_f000020.jpg');
  assert.equal(info?.size, data.length);
  assert.equal(info?.contentType, 'image/jpeg');
  assert.deepEqual(info?.metadata, { job: 'j-2' });
  assert.equal(info?.etag, etag);
  assert.equal(sha256(await store.readRange(bucket, 'cam1/cam1_f000020.jpg', 0, data.length)), sha256(data));

  await assert.rejects(store.put(bucket, 'big.bin', Buffer.alloc(MIB + 1)), RangeError);
  assert.equal(sent.get('PutObjectCommand'), before + 1, 'nothing was sent for the oversized body');
  assert.equal(await store.exists(bucket, 'big.bin'), false);
});

test('a 21 MiB file goes up in several parts and streams back to a file intact', async () => {
  const bucket = bucketName('big');
  await store.ensureBucket(bucket);
  const src = join(work, 'big-src.bin');
  await writeFile(src, randomBytes(21 * MIB + 12_345));
  const parts = sent.get('UploadPartCommand') ?? 0;
  await store.upload(bucket, 'video/1511893800.mp4', src, { contentType: 'video/mp4', partSize: 5 * MIB, queueSize: 2 });
  assert.equal((sent.get('UploadPartCommand') ?? 0) - parts, 5, '21 MiB in 5 MiB parts');
  assert.equal((await store.head(bucket, 'video/1511893800.mp4'))?.size, 21 * MIB + 12_345);

  const dst = join(work, 'big-dst.mp4');
  const got = await store.download(bucket, 'video/1511893800.mp4', dst);
  assert.equal(got.size, 21 * MIB + 12_345);
  assert.equal(await sha256File(dst), await sha256File(src));
  assert.deepEqual((await readdir(work)).filter((f) => f.endsWith('.part')), [], 'no .part file left behind');
});

test('a stream of unknown length is uploaded in parts as it is produced', async () => {
  const bucket = bucketName('stream');
  await store.ensureBucket(bucket);
  const chunks = Array.from({ length: 12 }, () => randomBytes(MIB));
  const parts = sent.get('UploadPartCommand') ?? 0;
  await store.upload(bucket, 'live.bin', Readable.from(chunks), { partSize: 5 * MIB });
  assert.equal((sent.get('UploadPartCommand') ?? 0) - parts, 3);
  const dst = join(work, 'stream-dst.bin');
  await store.download(bucket, 'live.bin', dst);
  assert.equal(await sha256File(dst), sha256(Buffer.concat(chunks)));
});

test('a missing object: head is null, download fails for good and leaves no file', async () => {
  const bucket = bucketName('missing');
  await store.ensureBucket(bucket);
  assert.equal(await store.head(bucket, 'nope.avi'), null);
  assert.equal(await store.exists(bucket, 'nope.avi'), false);
  assert.equal(await store.head(bucketName('nobucket'), 'nope.avi'), null);

  const dir = await mkdtemp(join(work, 'job-'));
  const dst = join(dir, 'source.avi');
  await assertRejectsWith(store.download(bucket, 'nope.avi', dst), PermanentError, 'OBJECT_NOT_FOUND');
  await assertRejectsWith(store.download(bucketName('nobucket'), 'nope.avi', dst), PermanentError, 'BUCKET_NOT_FOUND');
  assert.deepEqual(await readdir(dir), []);
});

test('delete removes the object and is idempotent', async () => {
  const bucket = bucketName('delete');
  await store.ensureBucket(bucket);
  await store.upload(bucket, 'cam1/a.avi', Readable.from([Buffer.from('avi')]));
  assert.equal(await store.exists(bucket, 'cam1/a.avi'), true);
  await store.delete(bucket, 'cam1/a.avi');
  assert.equal(await store.head(bucket, 'cam1/a.avi'), null);
  await store.delete(bucket, 'cam1/a.avi');
  await assertRejectsWith(store.delete(bucketName('nobucket'), 'a'), PermanentError, 'BUCKET_NOT_FOUND');
});

test('every operation refuses a key with "..", ".", empty segments or a leading slash, and a bad bucket name, before any request', async () => {
  const bucket = bucketName('keys');
  await store.ensureBucket(bucket);
  const other = bucketName('victim');
  await store.ensureBucket(other);
  await store.upload(other, 'victim.avi', Readable.from([Buffer.from('precious')]));
  await store.upload(bucket, 'cam3/keep.avi', Readable.from([Buffer.from('keep')]));
  const before = new Map(sent);
  for (const key of [`../${other}/victim.avi`, 'cam9/../cam3/keep.avi', '/cam3/keep.avi', 'cam3//keep.avi', './cam3/keep.avi']) {
    await assertRejectsWith(store.delete(bucket, key), PermanentError, 'BAD_OBJECT_KEY');
    await assertRejectsWith(store.head(bucket, key), PermanentError, 'BAD_OBJECT_KEY');
    await assertRejectsWith(store.download(bucket, key, join(work, 'never')), PermanentError, 'BAD_OBJECT_KEY');
    await assertRejectsWith(store.upload(bucket, key, Readable.from([Buffer.from('x')])), PermanentError, 'BAD_OBJECT_KEY');
    await assertRejectsWith(store.put(bucket, key, Buffer.from('x')), PermanentError, 'BAD_OBJECT_KEY');
  }
  await assertRejectsWith(collect(store.list(bucket, '../')), PermanentError, 'BAD_OBJECT_KEY');
  for (const name of ['video/avi', 'UPPER', 'a']) {
    await assertRejectsWith(store.ensureBucket(name), PermanentError, 'BAD_BUCKET_NAME');
    await assertRejectsWith(store.head(name, 'x.avi'), PermanentError, 'BAD_BUCKET_NAME');
  }
  assert.deepEqual(sent, before, 'no request was sent');
  assert.equal(await store.exists(other, 'victim.avi'), true);
  assert.equal(await store.exists(bucket, 'cam3/keep.avi'), true);
});

test('a store told which buckets it may create refuses to create any other', async () => {
  const allowed = bucketName('allowed');
  const limited = new S3ObjectStore(newClient(), { createBuckets: true, region: s3.region, creatableBuckets: [allowed] });
  await limited.ensureBucket(allowed);
  assert.equal(await limited.bucketExists(allowed), true);
  const stranger = bucketName('stranger');
  const err = await assertRejectsWith(limited.ensureBucket(stranger), PermanentError, 'BUCKET_NOT_FOUND');
  assert.match(err.message, /creates only the buckets it is configured with/);
  assert.equal(await limited.bucketExists(stranger), false);
});

test('list walks every page under a prefix, in key order', async () => {
  const bucket = bucketName('list');
  await store.ensureBucket(bucket);
  const keys = ['cam1/0005.avi', 'cam1/0001.avi', 'cam1/sub/0003.avi', 'cam1/0002 b.avi', 'cam1/0004+ü.avi', 'cam10/x.avi', 'cam2/0001.avi'];
  for (const key of keys) await store.upload(bucket, key, Readable.from([Buffer.from(key)]));

  const pages = await collect(store.list(bucket, 'cam1/', { pageSize: 2 }));
  assert.deepEqual(pages.map((p) => p.length), [2, 2, 1]);
  assert.deepEqual(pages.flat(), ['cam1/0001.avi', 'cam1/0002 b.avi', 'cam1/0004+ü.avi', 'cam1/0005.avi', 'cam1/sub/0003.avi']);
  assert.deepEqual((await collect(store.list(bucket))).flat().length, keys.length);
  assert.deepEqual(await collect(store.list(bucket, 'nothing/')), []);

  const first = (await store.list(bucket, 'cam2/')[Symbol.asyncIterator]().next()).value as { key: string; size: number }[];
  assert.deepEqual(first.map((o) => [o.key, o.size]), [['cam2/0001.avi', 'cam2/0001.avi'.length]]);
  await assertRejectsWith(collect(store.list(bucketName('nobucket'))), PermanentError, 'BUCKET_NOT_FOUND');
});

test('an unknown access key is refused for good, and no secret reaches the error', async () => {
  // s3rver checks the access key id but not SigV4 signatures, so the key id is what is wrong.
  const wrong = new S3ObjectStore(newClient({ ...s3, accessKeyId: 'NOT-A-KEY', secretAccessKey: 'not-the-secret' }));
  const err = await assertRejectsWith(wrong.ensureBucket(bucketName('denied')), PermanentError, 'STORAGE_ACCESS_DENIED');
  const cause = err.cause as Error;
  assert.doesNotMatch(JSON.stringify({ ...err, message: err.message, cause: { ...cause, message: cause.message } }), /not-the-secret/);
  const bucket = bucketName('denied2');
  await store.ensureBucket(bucket);
  await store.upload(bucket, 'a', Readable.from([Buffer.from('a')]));
  const dir = await mkdtemp(join(work, 'job-'));
  const denied = await assertRejectsWith(wrong.download(bucket, 'a', join(dir, 'a')), PermanentError, 'STORAGE_ACCESS_DENIED');
  assert.equal((denied.cause as Error).name, 'InvalidAccessKeyId');
  assert.equal('AWSAccessKeyId' in (denied.cause as object), false, 'the SDK exception is not kept');
  assert.deepEqual(await readdir(dir), []);
});

test('an unreachable store is a transient failure, reported within the retry bound', async () => {
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const port = (probe.address() as AddressInfo).port;
  await new Promise<void>((r) => probe.close(() => r()));

  const down = new S3ObjectStore(newClient({ ...s3, endpoint: `http://127.0.0.1:${port}` }));
  const started = Date.now();
  const err = await assertRejectsWith(down.head('any-bucket', 'k'), TransientError, 'STORAGE_UNAVAILABLE');
  assert.equal((err.cause as { code?: string }).code, 'ECONNREFUSED');
  await assertRejectsWith(down.ensureBucket('any-bucket'), TransientError, 'STORAGE_UNAVAILABLE');
  await assertRejectsWith(down.download('any-bucket', 'k', join(work, 'down.bin')), TransientError, 'STORAGE_UNAVAILABLE');
  assert.ok(Date.now() - started < 10_000, `took ${Date.now() - started} ms`);
});

test('a store that accepts but never answers times out as a transient failure', async () => {
  const held = new Set<Socket>();
  const silent = createServer((s) => held.add(s.on('error', () => undefined)));
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  try {
    const port = (silent.address() as AddressInfo).port;
    const hung = new S3ObjectStore(newClient({ ...s3, endpoint: `http://127.0.0.1:${port}` }, { maxAttempts: 2, socketTimeoutMs: 300 }));
    const started = Date.now();
    const err = await assertRejectsWith(hung.head('any-bucket', 'k'), TransientError, 'STORAGE_UNAVAILABLE');
    assert.equal((err.cause as Error).name, 'TimeoutError');
    assert.ok(Date.now() - started < 5_000, `took ${Date.now() - started} ms`);
  } finally {
    for (const s of held) s.destroy();
    await new Promise<void>((r) => silent.close(() => r()));
  }
});

test('a signal aborts downloads and uploads, leaving no file and no object', async () => {
  const bucket = bucketName('abort');
  await store.ensureBucket(bucket);
  const src = join(work, 'abort-src.bin');
  await writeFile(src, randomBytes(6 * MIB));
  await store.upload(bucket, 'a.bin', src);
  const dir = await mkdtemp(join(work, 'job-'));
  const dst = join(dir, 'a.bin');

  // Already aborted: nothing is sent.
  await assertRejectsWith(store.download(bucket, 'a.bin', dst, { signal: AbortSignal.abort() }), TransientError, 'STORAGE_ABORTED');

  // Aborted once the response headers are in, before the body is read.
  const c = newClient();
  const ac = new AbortController();
  c.middlewareStack.add((next) => async (args) => {
    const out = await next(args);
    ac.abort(new Error('shutting down'));
    return out;
  }, { step: 'deserialize', name: 'abortAfterHeaders' });
  await assertRejectsWith(new S3ObjectStore(c).download(bucket, 'a.bin', dst, { signal: ac.signal }), TransientError, 'STORAGE_ABORTED');
  assert.deepEqual(await readdir(dir), []);

  // An upload whose source stalls after one part: the abort ends it, no object appears.
  const stalled = new PassThrough();
  stalled.write(randomBytes(5 * MIB + 1));
  const up = new AbortController();
  const abortsBefore = sent.get('AbortMultipartUploadCommand') ?? 0;
  const pending = store.upload(bucket, 'stalled.bin', stalled, { partSize: 5 * MIB, signal: up.signal });
  setTimeout(() => up.abort(), 200);
  const started = Date.now();
  await assertRejectsWith(pending, TransientError, 'STORAGE_ABORTED');
  assert.ok(Date.now() - started < 2_000);
  assert.equal(stalled.destroyed, true, 'the source stream is released');
  // The multipart upload is aborted on the store in the background, so no parts linger.
  for (let i = 0; i < 100 && (sent.get('AbortMultipartUploadCommand') ?? 0) === abortsBefore; i++) await delay(20);
  assert.equal(sent.get('AbortMultipartUploadCommand'), abortsBefore + 1);
  assert.equal(await store.head(bucket, 'stalled.bin'), null);
  assert.ok((await stat(src)).size > 0);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ListBucketsCommand } from '@aws-sdk/client-s3';
import { runFfmpeg } from '../../shared/media/ffmpeg-runner.ts';
import { createS3Client } from '../../shared/storage/s3-client.ts';
import { drainQueue, metricValue, queueDepth, waitFor } from '../helpers/runtime-harness.ts';
import { corruptCopy, mkvClaiming } from '../helpers/videos.ts';
import { startRecordingServer } from '../helpers/recording-server.ts';
import { IMG, MP4, SRC, assertWorkDirEmpty, config, count, dir, five, hex, keys, minute, publish, put, rowOf, running, settled, store, t, useTranscoderFixture } from '../helpers/transcoder-fixture.ts';

useTranscoderFixture();

test('bad sources fail for good with a clear error, once: not retried, source kept, nothing left in the output buckets', async () => {
  const retries = await metricValue(running.app.metrics, 'vigil_retries_total', { service: 'transcoder' });
  const rejected = await count('rejected');
  await writeFile(join(dir, 'notes.avi'), 'this is not a video\n'.repeat(50));
  // Clip 000 is stored while ffmpeg still decodes, then the rest turns out to be garbage.
  await corruptCopy(five, join(dir, 'broken.avi'), 0.55);
  await put('bad/notes.avi', join(dir, 'notes.avi'));
  await put('bad/broken.avi', join(dir, 'broken.avi'));
  await publish({ jobId: 'bad-text', source: { bucket: SRC, key: 'bad/notes.avi' } }, { jobId: 'bad-corrupt', source: { bucket: SRC, key: 'bad/broken.avi' } }, { jobId: 'bad-missing', source: { bucket: SRC, key: 'bad/nothing.avi' } });
  const expected: [string, string, RegExp][] = [
    ['bad-text', 'NOT_A_VIDEO', /not a video/],
    ['bad-corrupt', 'SOURCE_CORRUPT', /could decode \d+\.\d s of the 300\.\d s .* truncated or corrupt/],
    ['bad-missing', 'OBJECT_NOT_FOUND', /does not exist/],
  ];
  for (const [key, code, message] of expected) {
    const row = await settled(key);
    assert.deepEqual([row.status, row.error_code, row.attempts], ['failed', code, 1], key);
    assert.match(row.error_message, message);
    assert.ok(!row.error_message.includes(dir), 'no work folder path in the message');
  }
  assert.equal(await store.exists(SRC, 'bad/notes.avi'), true);
  assert.equal(await store.exists(SRC, 'bad/broken.avi'), true);
  assert.deepEqual((await keys(MP4)).filter((k) => k.startsWith('notes') || k.startsWith('broken')), [], 'the clip stored before the failure is removed');
  assert.deepEqual(await keys(IMG, 'broken/'), []);
  assert.equal(await metricValue(running.app.metrics, 'vigil_retries_total', { service: 'transcoder' }), retries);
  assert.equal(await count('rejected'), rejected + 3);
  assert.equal(await queueDepth(`${t.prefix}transcoder.dlq`), 0);
  await assertWorkDirEmpty();
});

test('an AVI that is an HLS playlist on a local HTTP server: no request reaches the server, the job fails for good', async () => {
  const server = await startRecordingServer();
  const base = server.base;
  try {
    const file = join(dir, 'playlist.avi');
    await writeFile(file, `#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXT-X-MEDIA-SEQUENCE:0\n#EXTINF:10.0,\n${base}/seg0.ts\n#EXT-X-ENDLIST\n`);
    await put('bad/playlist.avi', file);
    await publish({ jobId: 'hls', source: { bucket: SRC, key: 'bad/playlist.avi' } });
    const row = await settled('hls');
    assert.deepEqual([row.status, row.error_code, row.attempts], ['failed', 'NOT_A_VIDEO', 1]);
    assert.match(row.error_message, /not on whitelist/);
    await server.assertUntouched();
  } finally {
    server.close();
  }
});

test('hostile producers: keys that climb out, work for other services, unconfigured buckets, deep or malformed bodies are refused and recorded; nothing else is touched', async () => {
  const LIB = `lib-${hex()}`;
  await store.ensureBucket(LIB);
  await store.upload(LIB, 'victim.avi', minute);
  await put('cam3/keep.avi', minute);
  await put('cam9/x.avi', minute);
  const lanes = await queueDepth(`${t.prefix}facetraining`).catch(() => 0);
  const deep = `{"source":{"bucket":"${SRC}","key":"cam9/x.avi"},"then":{"queue":"uploader","job":${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}}}`;
  const dlqBefore = await queueDepth(`${t.prefix}transcoder.dlq`);
  await publish(
    { jobId: 'climb-bucket', source: { bucket: SRC, key: `../${LIB}/victim.avi` }, deleteSource: true },
    { jobId: 'climb-folder', source: { bucket: SRC, key: 'cam9/../cam3/keep.avi' }, deleteSource: true },
    { jobId: 'absolute', source: { bucket: SRC, key: '/cam3/keep.avi' } },
    { jobId: 'inject', source: { bucket: SRC, key: 'cam9/x.avi' }, deleteSource: false, then: { queue: 'facetraining', job: { id: 40 } } },
    { jobId: 'other-output', source: { bucket: SRC, key: 'cam9/x.avi' }, deleteSource: false, output: { bucket: `made-${hex()}` } },
    { jobId: 'other-frames', source: { bucket: SRC, key: 'cam9/x.avi' }, deleteSource: false, frames: { bucket: LIB } },
    deep,
    JSON.stringify({ jobId: 'slash-bucket', source: { bucket: 'video/avi', key: 'x.avi' } }),
  );
  const expected: [string, string, RegExp][] = [
    ['climb-bucket', 'BAD_OBJECT_KEY', /"\." or "\.\." segment/],
    ['climb-folder', 'BAD_OBJECT_KEY', /"\." or "\.\." segment/],
    ['absolute', 'BAD_OBJECT_KEY', /must not be absolute/],
    ['inject', 'BAD_NEXT_STEP', /then.queue must be one of uploader \(got "facetraining"\)/],
    ['other-output', 'BUCKET_NOT_ALLOWED', new RegExp(`output.bucket must be one of ${MP4}`)],
    ['other-frames', 'BUCKET_NOT_ALLOWED', new RegExp(`frames.bucket must be one of ${IMG}`)],
  ];
  for (const [key, code, message] of expected) {
    const row = await settled(key);
    assert.deepEqual([row.status, row.error_code, row.attempts, row.source_etag], ['failed', code, 1, null], key);
    assert.match(row.error_message, message, key);
  }
  // The two bodies that are not jobs at all: dead-lettered with the reason, no row.
  await waitFor('two dead letters', async () => (await queueDepth(`${t.prefix}transcoder.dlq`)) === dlqBefore + 2, 20_000);
  const dead = (await drainQueue(`${t.prefix}transcoder.dlq`)).slice(-2);
  assert.deepEqual(dead.map((d) => d.headers['x-vigil-error-code']), ['BAD_MESSAGE', 'BAD_MESSAGE']);
  assert.match(String(dead[0]!.headers['x-vigil-error']), /nests deeper than 32 levels/);
  assert.match(String(dead[1]!.headers['x-vigil-error']), /source\.bucket: must be an S3 bucket name/);
  assert.equal(await rowOf('slash-bucket'), undefined);

  assert.equal(await store.exists(LIB, 'victim.avi'), true, "another bucket's object is untouched");
  assert.equal(await store.exists(SRC, 'cam3/keep.avi'), true, "another folder's object is untouched");
  assert.equal(await store.exists(SRC, 'cam9/x.avi'), true);
  assert.equal(await queueDepth(`${t.prefix}facetraining`).catch(() => 0), lanes, 'nothing reached facetraining');
  const client = createS3Client(config.s3);
  const buckets = (await client.send(new ListBucketsCommand({}))).Buckets?.map((b) => b.Name) ?? [];
  client.destroy();
  assert.ok(!buckets.some((b) => b?.startsWith('made-')), 'no bucket was created for a job');

  // And the service is alive and well: a good job after them is done.
  await publish({ jobId: 'after-hostile', source: { bucket: SRC, key: 'cam9/x.avi' } });
  const good = await settled('after-hostile');
  assert.equal(good.status, 'done', good.error_message);
  await assertWorkDirEmpty();
});

test('an AVI cut short (a camera that lost power mid-write) fails for good as truncated, and the source is kept', async () => {
  const { size } = await stat(five);
  const cut = join(dir, 'cut.avi');
  await writeFile(cut, (await readFile(five)).subarray(0, Math.floor(size / 2)));
  await put('cam5/cut.avi', cut);
  await publish({ jobId: 'cut', source: { bucket: SRC, key: 'cam5/cut.avi' }, deleteSource: true });
  const row = await settled('cut');
  assert.deepEqual([row.status, row.error_code, row.attempts], ['failed', 'SOURCE_TRUNCATED', 1]);
  assert.match(row.error_message, /holds 1\d\d\.\d\d s of the 300\.\d\d s its header declares: it is truncated/);
  assert.equal(await store.exists(SRC, 'cam5/cut.avi'), true, 'the source is kept');
  assert.deepEqual((await keys(MP4)).filter((k) => k.startsWith('cut')), []);
  await assertWorkDirEmpty();
});

test('limits: a 7 KB MKV claiming 10⁹ s, and job fields asking for millions of clips, fail for good at once; the source is kept, the service goes on', async () => {
  const claim = join(dir, 'claims.mkv');
  await mkvClaiming(claim, 1e9);
  await put('cam6/claims.mkv', claim);
  // Wider than any browser plays (and than TRANSCODER_MAX_WIDTH), yet a few KB: one ffv1 frame.
  const wide = join(dir, 'wide.mkv');
  await runFfmpeg(['-y', '-f', 'lavfi', '-i', 'color=c=gray:s=4100x64:d=0.2:r=5', '-c:v', 'ffv1', wide]);
  await put('cam6/wide.mkv', wide);
  await put('cam6/minute.avi', minute);
  await publish(
    { jobId: 'claims-forever', source: { bucket: SRC, key: 'cam6/claims.mkv' } },
    { jobId: 'too-wide', source: { bucket: SRC, key: 'cam6/wide.mkv' } },
    { jobId: 'tiny-clips', source: { bucket: SRC, key: 'cam6/minute.avi' }, split: { maxSeconds: 1, clipSeconds: 0.000001 } },
    { jobId: 'many-clips', source: { bucket: SRC, key: 'cam6/minute.avi' }, split: { maxSeconds: 1, clipSeconds: 0.001 } },
  );
  const expected: [string, RegExp][] = [
    ['claims-forever', /declared length in seconds 1000000000 is over TRANSCODER_MAX_DURATION \(43200\); the source is kept/],
    ['too-wide', /the source's width 4100 is over TRANSCODER_MAX_WIDTH \(4096\)/],
    ['tiny-clips', /clip count that \d{8} is over TRANSCODER_MAX_CLIPS \(1000\)/],
    ['many-clips', /clip count that \d{5} is over TRANSCODER_MAX_CLIPS \(1000\)/],
  ];
  for (const [key, message] of expected) {
    const row = await settled(key);
    assert.deepEqual([row.status, row.error_code, row.attempts], ['failed', 'LIMIT_EXCEEDED', 1], key);
    assert.match(row.error_message, message, key);
  }
  assert.equal(await store.exists(SRC, 'cam6/claims.mkv'), true);
  assert.equal(await store.exists(SRC, 'cam6/wide.mkv'), true);
  assert.equal(await store.exists(SRC, 'cam6/minute.avi'), true);
  assert.ok(running.consumers[0]!.attached, 'the service is alive');
  await assertWorkDirEmpty();
});

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { ListBucketsCommand } from '@aws-sdk/client-s3';
import { jobKeyHash } from '../../db/repositories/transcoder.repository.ts';
import { loadConfig, type Config } from '../../services/config.ts';
import { probeMedia } from '../../shared/media/ffprobe.ts';
import { runFfmpeg } from '../../shared/media/ffmpeg-runner.ts';
import { isFastStart, readTopLevelBoxes } from '../../shared/media/mp4-verify.ts';
import { liveFfmpegGroups } from '../../shared/media/process-group.ts';
import type { RunningApp } from '../../shared/app/run-services.ts';
import { CODECS, type VideoJob } from '../../shared/contract/messages.ts';
import { createObjectStore, type S3ObjectStore } from '../../shared/storage/object-store.ts';
import { createS3Client } from '../../shared/storage/s3-client.ts';
import { service as transcoder } from '../../services/transcoder/main.ts';
import { captureLogger, drainQueue, metricValue, publishRaw, queueDepth, startApp, waitFor } from '../helpers/runtime-harness.ts';
import { startS3Server, type S3TestServer } from '../helpers/s3-server.ts';
import { createTestEnv, type TestEnv } from '../helpers/test-env.ts';
import { corruptCopy, expectedFrames, FIVE_MINUTES, frameLumas, makeTestAvis, mkvClaiming } from '../helpers/videos.ts';
import { startRecordingServer } from '../helpers/recording-server.ts';

const hex = () => randomBytes(3).toString('hex');
const SRC = `src-${hex()}`;
const MP4 = `mp4-${hex()}`;
const IMG = `img-${hex()}`;

let s3: S3TestServer;
let t: TestEnv;
let config: Config;
let running: RunningApp;
let lines: Record<string, any>[];
let store: S3ObjectStore;
let dir: string;
let workRoot: string;
let five: string;
let minute: string;
let talk: string;

before(async () => {
  s3 = await startS3Server();
  dir = await mkdtemp(join(tmpdir(), 'vigil-transcoder-'));
  await mkdir(join(dir, 'work'));
  workRoot = join(dir, 'work', 'transcoder');
  ({ five, minute, talk } = await makeTestAvis(dir));
  t = await createTestEnv('transcoder', {
    ...s3.env,
    BUCKET_SOURCE: SRC,
    BUCKET_VIDEO: MP4,
    BUCKET_FRAMES: IMG,
    VIGIL_WORK_DIR: join(dir, 'work'),
    // Small test videos: fast encodes, and a blur threshold for 320×240 (sharp ~5, blurred ~20).
    TRANSCODER_PRESET: 'ultrafast',
    TRANSCODER_BLUR_THRESHOLD: '12',
    VIGIL_SHUTDOWN_TIMEOUT: '300ms',
    LOG_LEVEL: 'info',
  });
  config = loadConfig(t.env);
  store = createObjectStore(config.s3);
  await store.ensureBucket(SRC);
  const captured = captureLogger('info');
  lines = captured.lines;
  running = await startApp(config, [transcoder], captured.logger);
  await waitFor('the consumer', () => running.consumers[0]!.attached, 30_000);
});

after(async () => {
  await running?.stop();
  store?.close();
  await t?.cleanup();
  await s3?.close();
  await rm(dir, { recursive: true, force: true });
});

async function put(key: string, file: string): Promise<void> {
  await store.upload(SRC, key, file);
}

async function publish(...jobs: (VideoJob | string)[]): Promise<void> {
  await publishRaw(`${t.prefix}transcoder`, jobs.map((j) => (typeof j === 'string' ? j : CODECS.transcoder.encode(j))));
}

type Row = Record<string, any>;

async function rowOf(key: string): Promise<Row | undefined> {
  return t.database().db.selectFrom('video_job').selectAll().where('job_key_sha256', '=', jobKeyHash(key)).executeTakeFirst();
}

async function settled(key: string, statuses = ['done', 'failed'], timeoutMs = 90_000): Promise<Row> {
  let row: Row | undefined;
  await waitFor(`video job ${key} ${statuses.join('/')}`, async () => {
    row = await rowOf(key);
    return row !== undefined && statuses.includes(row.status) && running.consumers[0]!.inFlightCount === 0;
  }, timeoutMs, 100);
  return row!;
}

async function keys(bucket: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for await (const page of store.list(bucket, prefix)) out.push(...page.map((o) => o.key));
  return out.sort();
}

async function fetchObject(bucket: string, key: string): Promise<string> {
  const path = join(dir, `dl-${hex()}.mp4`);
  await store.download(bucket, key, path);
  return path;
}

const count = (outcome: string) => metricValue(running.app.metrics, 'vigil_messages_total', { service: 'transcoder', outcome });

async function assertWorkDirEmpty(): Promise<void> {
  assert.deepEqual(await readdir(workRoot), [], 'every job folder is removed');
}

test('a 5-minute XviD/MP3 AVI: 3 verified clips and every 10th frame minus the dead ones are stored, then the source is deleted', async () => {
  await put('cam1/1511893800.avi', five);
  await publish({ source: { bucket: SRC, key: 'cam1/1511893800.avi' } });
  const row = await settled(`s3:${SRC}/cam1/1511893800.avi`);
  assert.equal(row.status, 'done', row.error_message);
  assert.equal(row.attempts, 1);
  assert.ok(Math.abs(row.source_seconds - 300) < 0.5);
  const want = expectedFrames(FIVE_MINUTES, 10, 10);
  assert.deepEqual([row.frames_kept, row.frames_black, row.frames_frozen, row.frames_blurred], [151, 30, 59, 60]);
  assert.deepEqual([row.frames_kept, row.frames_black, row.frames_frozen, row.frames_blurred], [want.kept, want.dropped.black, want.dropped.frozen, want.dropped.blurred]);
  assert.ok(row.ffmpeg_ms > 0 && row.total_ms >= row.ffmpeg_ms && row.download_ms >= 0);
  assert.ok(row.started_at && row.finished_at && row.source_deleted_at && row.worker);

  const names = ['1511893800_000.mp4', '1511893800_001.mp4', '1511893800_002.mp4'];
  assert.deepEqual(await keys(MP4), names);
  const outputs = JSON.parse(row.outputs);
  assert.deepEqual(outputs.clips.map((c: { key: string }) => c.key), names);
  assert.deepEqual(outputs.frames, { bucket: IMG, prefix: '1511893800/', every: 10, count: 151 });
  for (const [i, expected] of [120, 120, 60].entries()) {
    const path = await fetchObject(MP4, names[i]!);
    const info = await probeMedia(path, { formatWhitelist: ['mov'] });
    assert.ok(Math.abs(info.durationSeconds - expected) < 0.3, `${names[i]}: ${info.durationSeconds} s`);
    assert.deepEqual([info.video?.codec, info.video?.pixFmt, info.audio?.codec], ['h264', 'yuv420p', 'aac']);
    assert.ok(isFastStart(await readTopLevelBoxes(path)), `${names[i]} has moov before mdat`);
    assert.equal(outputs.clips[i].bytes > 0, true);
  }

  const frames = await keys(IMG, '1511893800/');
  assert.equal(frames.length, want.kept);
  for (const n of [0, 590, 900, 2100, 2990]) assert.ok(frames.includes(`1511893800/1511893800_f${String(n).padStart(6, '0')}.jpg`), `frame ${n}`);
  assert.ok(!frames.includes('1511893800/1511893800_f000600.jpg'), 'a black frame is not uploaded');
  assert.equal(await store.exists(SRC, 'cam1/1511893800.avi'), false, 'the source is deleted');
  await assertWorkDirEmpty();

  const stored = lines.find((l) => l.msg === 'video job outputs stored' && l.clips === 3);
  assert.ok(stored && stored.clipsStoredDuringEncode >= 1, `clips uploaded while ffmpeg still encoded: ${JSON.stringify(stored)}`);
  assert.ok(stored.framesStoredDuringEncode >= 1 && stored.framesStoredDuringEncode <= 151, `frames uploaded while ffmpeg still encoded: ${JSON.stringify(stored)}`);
  const m = running.app.metrics;
  assert.equal(await metricValue(m, 'vigil_transcode_frames_total', { verdict: 'kept' }), 151);
  assert.equal(await metricValue(m, 'vigil_transcode_frames_total', { verdict: 'frozen' }), 59);
  assert.ok((await metricValue(m, 'vigil_transcode_media_seconds_total')) >= 299);
  assert.equal(await metricValue(m, 'vigil_transcode_progress_ratio'), 0, 'idle again');
});

test('a 60 s AVI becomes one <stem>.mp4 and its frames', async () => {
  await put('cam1/short.avi', minute);
  await publish({ jobId: 'minute-1', source: { bucket: SRC, key: 'cam1/short.avi' } });
  const row = await settled('minute-1');
  assert.equal(row.status, 'done', row.error_message);
  assert.deepEqual(JSON.parse(row.outputs).clips.map((c: { key: string }) => c.key), ['short.mp4']);
  const info = await probeMedia(await fetchObject(MP4, 'short.mp4'), { formatWhitelist: ['mov'] });
  assert.ok(Math.abs(info.durationSeconds - 60) < 0.3);
  assert.equal((await keys(IMG, 'short/')).length, 60);
  assert.equal(row.frames_kept, 60);
  await assertWorkDirEmpty();
});

test('a trim with fades: one <stem>.mp4 of end − start seconds, dark first and last frames, no frames extracted', async () => {
  await put('talks/ada.avi', talk);
  await publish({ jobId: 'talk-1', source: { bucket: SRC, key: 'talks/ada.avi' }, trim: { start: 5, end: 25, fadeSeconds: 3 } });
  const row = await settled('talk-1');
  assert.equal(row.status, 'done', row.error_message);
  const path = await fetchObject(MP4, 'ada.mp4');
  const info = await probeMedia(path, { formatWhitelist: ['mov'] });
  assert.ok(Math.abs(info.durationSeconds - 20) < 0.3, `${info.durationSeconds} s`);
  const lumas = await frameLumas(path, join(dir, 'ada.gray'));
  assert.ok(lumas[0]! < 20 && lumas.at(-1)! < 25, `first ${lumas[0]}, last ${lumas.at(-1)}`);
  assert.ok(lumas[100]! > 60, `middle ${lumas[100]}`);
  assert.equal(row.frames_kept, null);
  assert.equal(JSON.parse(row.outputs).frames, undefined);
  assert.deepEqual(await keys(IMG, 'ada/'), []);
});

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

test('an S3 event notification (URL-encoded key, + for a space) is processed as a job', async () => {
  await put('uploads/Right metrics: part+1.avi', minute);
  const encoded = 'uploads/Right+metrics%3A+part%2B1.avi';
  await publish(JSON.stringify({ Records: [{ eventName: 'ObjectCreated:Put', s3: { bucket: { name: SRC }, object: { key: encoded, size: 1 } } }] }));
  const row = await settled(`s3:${SRC}/uploads/Right metrics: part+1.avi`);
  assert.equal(row.status, 'done', row.error_message);
  assert.equal(row.source_key, 'uploads/Right metrics: part+1.avi');
  assert.equal(await store.exists(MP4, 'Right metrics: part+1.mp4'), true);
  assert.equal(await store.exists(SRC, 'uploads/Right metrics: part+1.avi'), false);
});

test('a republished or redelivered finished job is a duplicate: no work, no new outputs; the same key uploaded again is new work', async () => {
  await put('cam2/again.avi', minute);
  const job = { jobId: 'again-1', source: { bucket: SRC, key: 'cam2/again.avi' }, deleteSource: false };
  await publish(job);
  const first = await settled('again-1');
  assert.equal(first.status, 'done', first.error_message);
  const before = await store.head(MP4, 'again.mp4');
  const frames = await keys(IMG, 'again/');
  const duplicates = await count('duplicate');
  await publish(job, job);
  await waitFor('two duplicates', async () => (await count('duplicate')) === duplicates + 2, 30_000);
  const row = (await rowOf('again-1'))!;
  assert.equal(row.attempts, 1, 'no new attempt');
  assert.deepEqual(await store.head(MP4, 'again.mp4'), before, 'the clip was not written again');
  assert.deepEqual(await keys(IMG, 'again/'), frames);
  assert.equal(await store.exists(SRC, 'cam2/again.avi'), true, 'deleteSource: false keeps the source');

  // Other content under the same key (a camera re-uploading) is not a redelivery.
  await put('cam2/again.avi', talk);
  await publish(job);
  await waitFor('the second run', async () => (await rowOf('again-1'))!.attempts === 2, 30_000);
  const rerun = await settled('again-1');
  assert.equal(rerun.status, 'done');
  assert.ok(Math.abs(rerun.source_seconds - 40) < 0.5);
});

test('then: the next job is published to its queue after success only; a bad then is refused before any work', async () => {
  await put('talks/then.avi', talk);
  const next = { source: { bucket: MP4, key: 'then.mp4' }, title: 'Right metrics and wrong metrics' };
  await publish({ jobId: 'then-1', source: { bucket: SRC, key: 'talks/then.avi' }, trim: { start: 1, end: 11 }, then: { queue: 'uploader', job: next } });
  const row = await settled('then-1');
  assert.equal(row.status, 'done', row.error_message);
  await waitFor('the then job', async () => (await queueDepth(`${t.prefix}uploader`)) === 1, 10_000);
  const [msg] = await drainQueue(`${t.prefix}uploader`);
  assert.deepEqual(JSON.parse(msg!.body), next);
  assert.ok((await rowOf('then-1'))!.next_published_at);

  await put('talks/then-bad.avi', join(dir, 'notes.avi'));
  await put('talks/then-nowhere.avi', talk);
  await publish(
    { jobId: 'then-2', source: { bucket: SRC, key: 'talks/then-bad.avi' }, then: { queue: 'uploader', job: next } },
    { jobId: 'then-3', source: { bucket: SRC, key: 'talks/then-nowhere.avi' }, then: { queue: 'nowhere', job: {} } },
    { jobId: 'then-4', source: { bucket: SRC, key: 'talks/then-nowhere.avi' }, then: { queue: 'uploader', job: { title: 'no source' } } },
  );
  assert.equal((await settled('then-2')).error_code, 'NOT_A_VIDEO');
  for (const key of ['then-3', 'then-4']) {
    const bad = await settled(key);
    assert.deepEqual([bad.status, bad.error_code, bad.source_etag], ['failed', 'BAD_NEXT_STEP', null], key);
  }
  assert.match((await rowOf('then-3'))!.error_message, /then.queue must be one of uploader \(got "nowhere"\)/);
  assert.match((await rowOf('then-4'))!.error_message, /not a valid uploader message: .*source/);
  assert.equal(await queueDepth(`${t.prefix}uploader`), 0);
  assert.equal(await store.exists(SRC, 'talks/then-nowhere.avi'), true);
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

test('SIGTERM path: an encode still running at the shutdown deadline is killed with its process group and the job requeued', async () => {
  await put('cam3/long.avi', five);
  await publish({ jobId: 'interrupted', source: { bucket: SRC, key: 'cam3/long.avi' } });
  await waitFor('ffmpeg encoding', async () => (await metricValue(running.app.metrics, 'vigil_transcode_progress_ratio')) > 0, 30_000, 20);
  assert.ok(liveFfmpegGroups().length > 0);
  await running.stop();
  assert.deepEqual(liveFfmpegGroups(), [], 'no ffmpeg outlives the service');
  const row = (await rowOf('interrupted'))!;
  assert.equal(row.status, 'queued');
  assert.match(row.error_code, /ABORTED/);
  await waitFor('the requeued job', async () => (await queueDepth(`${t.prefix}transcoder`)) === 1, 10_000);
  assert.equal(await store.exists(SRC, 'cam3/long.avi'), true);
  await assertWorkDirEmpty();
  await drainQueue(`${t.prefix}transcoder`);
});

test('at start, work folders of dead processes on this host are swept; below the disk floor a job is retried and the row says why', async () => {
  const host = hostname().replace(/[^A-Za-z0-9.-]/g, '_').slice(0, 64);
  const gone = spawn('true');
  await once(gone, 'exit');
  const alive = spawn('sleep', ['30']);
  try {
    const leftovers = [`job_${gone.pid}_7_abcd1234_${host}`, `job_${process.pid}_8_abcd1234_${host}`];
    const kept = [`job_${alive.pid}_9_abcd1234_${host}`, `job_${gone.pid}_10_abcd1234_other-host`, 'not-a-job-folder'];
    for (const name of [...leftovers, ...kept]) {
      await mkdir(join(workRoot, name, 'clips'), { recursive: true });
      await writeFile(join(workRoot, name, 'clips', 'clip_000.mp4'), 'partial');
    }
    const lowDisk = loadConfig({ ...t.env, TRANSCODER_MIN_FREE_DISK: '1000TiB', VIGIL_MAX_ATTEMPTS: '2', VIGIL_RETRY_DELAYS: '200ms' });
    const captured = captureLogger('info');
    running = await startApp(lowDisk, [transcoder], captured.logger);
    await waitFor('the consumer', () => running.consumers[0]!.attached, 30_000);
    assert.deepEqual((await readdir(workRoot)).sort(), [...kept].sort());
    for (const name of kept) await rm(join(workRoot, name), { recursive: true });

    await put('cam4/full.avi', minute);
    await publish({ jobId: 'low-disk', source: { bucket: SRC, key: 'cam4/full.avi' } });
    const row = await settled('low-disk', ['dead_lettered'], 30_000);
    assert.deepEqual([row.error_code, row.attempts], ['LOW_DISK', 2]);
    assert.match(row.error_message, /free for work files; TRANSCODER_MIN_FREE_DISK is 1000\.0 TiB/);
    assert.equal(await metricValue(running.app.metrics, 'vigil_retries_total', { service: 'transcoder' }), 1);
    await waitFor('the dead letter', async () => (await queueDepth(`${t.prefix}transcoder.dlq`)) === 1, 10_000);
    assert.equal(await store.exists(SRC, 'cam4/full.avi'), true);
    await assertWorkDirEmpty();
  } finally {
    alive.kill();
  }
});

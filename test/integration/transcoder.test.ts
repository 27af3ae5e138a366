import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../services/config.ts';
import { probeMedia } from '../../shared/media/ffprobe.ts';
import { isFastStart, readTopLevelBoxes } from '../../shared/media/mp4-verify.ts';
import { liveFfmpegGroups } from '../../shared/media/process-group.ts';
import { drainQueue, metricValue, queueDepth, waitFor } from '../helpers/runtime-harness.ts';
import { expectedFrames, FIVE_MINUTES, frameLumas } from '../helpers/videos.ts';
import { IMG, MP4, SRC, assertWorkDirEmpty, count, dir, fetchObject, five, keys, lines, minute, publish, put, rowOf, running, settled, startTranscoder, store, t, talk, useTranscoderFixture, workRoot } from '../helpers/transcoder-fixture.ts';

useTranscoderFixture();

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

  await writeFile(join(dir, 'then-bad.avi'), 'this is not a video\n'.repeat(50));
  await put('talks/then-bad.avi', join(dir, 'then-bad.avi'));
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
    await startTranscoder(lowDisk);
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

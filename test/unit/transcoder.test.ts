import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../../shared/logger.ts';
import { PermanentError, TransientError, VigilError } from '../../shared/errors.ts';
import type { VideoJob, VideoJobDefaults } from '../../shared/contract/messages.ts';
import { planClips } from '../../shared/media/ffmpeg-args.ts';
import { checkCoverage } from '../../services/transcoder/coverage.ts';
import { ClipWatcher, type ClipFile } from '../../services/transcoder/clip-watcher.ts';
import { checkNotTruncated, declaredSeconds, type VideoInfo } from '../../shared/media/ffprobe.ts';
import { checkMediaLimits, decoderPixelBound, MEDIA_LIMIT_DEFAULTS, type PlannedWork } from '../../shared/media/media-limits.ts';
import { isClipName } from '../../shared/media/output-names.ts';
import { planJob } from '../../services/transcoder/plan.ts';
import { checkFreeDisk, formatBytes, jobDirName, sweepJobDirs, withJobDir, withoutWorkPaths } from '../../services/transcoder/work-dir.ts';
import { loadConfig } from '../../services/config.ts';
import { videoJobDefaults, videoJobRules } from '../../services/transcoder/config.ts';

const DEFAULTS: VideoJobDefaults = videoJobDefaults(loadConfig({}));
const RULES = videoJobRules(loadConfig({}));

test('the job defaults the configuration sets follow the contract and the seeds', () => {
  assert.deepEqual(DEFAULTS, {
    outputBucket: 'video-mp4',
    framesBucket: 'unlabeled-images',
    split: { maxSeconds: 240, clipSeconds: 120 },
    frames: { every: 10, width: 1280, height: 720, dropDead: true },
    deleteSource: true,
    fadeSeconds: 3,
  });
});
const source = { bucket: 'video-avi', key: 'cam1/1511893800.avi' };
const code = (c: string) => (err: unknown) => err instanceof VigilError && err.code === c;
const silent = createLogger({ level: 'silent' });

test('a job with only a source gets the contract defaults', () => {
  const plan = planJob({ source }, DEFAULTS, RULES);
  assert.equal(plan.stem, '1511893800');
  assert.equal(plan.outputBucket, 'video-mp4');
  assert.equal(plan.deleteSource, true);
  assert.deepEqual(plan.work, {
    kind: 'split',
    split: { maxSeconds: 240, clipSeconds: 120 },
    frames: { bucket: 'unlabeled-images', every: 10, width: 1280, height: 720, dropDead: true },
  });
  assert.equal(plan.next, undefined);
});

test("a job's own fields win; a trim makes one file with its fade (or the default one)", () => {
  const job: VideoJob = {
    source, deleteSource: false, split: { clipSeconds: 60 }, frames: { every: 5, bucket: 'frames-b', dropDead: false }, output: { bucket: 'video-library' },
  };
  const plan = planJob(job, DEFAULTS, videoJobRules(loadConfig({ TRANSCODER_OUTPUT_BUCKETS: 'frames-b,video-library' })));
  assert.equal(plan.deleteSource, false);
  assert.equal(plan.outputBucket, 'video-library');
  assert.deepEqual(plan.work, { kind: 'split', split: { maxSeconds: 240, clipSeconds: 60 }, frames: { bucket: 'frames-b', every: 5, width: 1280, height: 720, dropDead: false } });
  assert.deepEqual(planJob({ source, trim: { start: 12.5, end: 1830 } }, DEFAULTS, RULES).work, { kind: 'trim', start: 12.5, end: 1830, fadeSeconds: 3 });
  assert.deepEqual(planJob({ source, trim: { start: 0, end: 10, fadeSeconds: 0 } }, DEFAULTS, RULES).work, { kind: 'trim', start: 0, end: 10, fadeSeconds: 0 });
});

test('then: checked against its queue format and encoded; an unknown queue or a bad body is permanent', () => {
  const plan = planJob({ source, then: { queue: 'uploader', job: { source: { bucket: 'video-mp4', key: 'a.mp4' }, title: 'A talk' } } }, DEFAULTS, RULES);
  assert.equal(plan.next?.queue, 'uploader');
  assert.deepEqual(plan.next, { queue: 'uploader', payload: { source: { bucket: 'video-mp4', key: 'a.mp4' }, title: 'A talk' } });
  assert.throws(() => planJob({ source, then: { queue: 'elsewhere', job: {} } }, DEFAULTS, RULES), (err: unknown) => err instanceof PermanentError && code('BAD_NEXT_STEP')(err) && /then.queue must be one of/.test(err.message));
  const toNotifier = videoJobRules(loadConfig({ TRANSCODER_NEXT_QUEUES: 'uploader,notifier' }));
  assert.throws(() => planJob({ source, then: { queue: 'notifier', job: { channel: 'sms' } } }, DEFAULTS, toNotifier), (err: unknown) => code('BAD_NEXT_STEP')(err) && /not a valid notifier message/.test((err as Error).message));
});

test('then may name only the queues TRANSCODER_NEXT_QUEUES allows (uploader by default): no work injected into other services', () => {
  const inject = { source, then: { queue: 'facetraining', job: { id: 40 } } };
  assert.throws(() => planJob(inject, DEFAULTS, RULES), (err: unknown) => code('BAD_NEXT_STEP')(err) && /then.queue must be one of uploader \(got "facetraining"\)/.test((err as Error).message));
  const plan = planJob(inject, DEFAULTS, videoJobRules(loadConfig({ TRANSCODER_NEXT_QUEUES: 'uploader,facetraining' })));
  assert.equal(plan.next?.queue, 'facetraining');
});

test('output and frame buckets are the configured ones or TRANSCODER_OUTPUT_BUCKETS; any other is refused before any work', () => {
  const refused = (job: VideoJob, field: string) =>
    assert.throws(() => planJob(job, DEFAULTS, RULES), (err: unknown) => code('BUCKET_NOT_ALLOWED')(err) && new RegExp(`^${field} must be one of`).test((err as Error).message));
  refused({ source, output: { bucket: 'video-library' } }, 'output.bucket');
  refused({ source, frames: { bucket: 'video-avi' } }, 'frames.bucket');
  // A trim makes no frames: its frames bucket is not looked at.
  assert.equal(planJob({ source, trim: { start: 0, end: 5 }, frames: { bucket: 'anything-else' } }, DEFAULTS, RULES).outputBucket, 'video-mp4');
  assert.deepEqual(RULES, { nextQueues: ['uploader'], outputBuckets: ['video-mp4'], framesBuckets: ['unlabeled-images'] });
});

test('keys that cannot name outputs, and outputs that would replace the source, are refused', () => {
  assert.throws(() => planJob({ source: { bucket: 'video-avi', key: 'cam1/../x.avi/' } }, DEFAULTS, RULES), code('BAD_OBJECT_KEY'));
  for (const key of ['cam9/../cam3/keep.avi', '../video-library/victim.avi', '/abs.avi', 'cam1//x.avi', './x.avi']) {
    assert.throws(() => planJob({ source: { bucket: 'video-avi', key } }, DEFAULTS, RULES), code('BAD_OBJECT_KEY'), key);
  }
  assert.throws(() => planJob({ source: { bucket: 'video-mp4', key: 'talk.mp4' } }, DEFAULTS, RULES), code('OUTPUT_WOULD_REPLACE_SOURCE'));
  assert.throws(() => planJob({ source: { bucket: 'video-mp4', key: 'cam_001.mp4' }, trim: { start: 0, end: 5 } }, DEFAULTS, RULES), (err: unknown) => code('OUTPUT_WOULD_REPLACE_SOURCE')(err));
  const toLibrary = videoJobRules(loadConfig({ TRANSCODER_OUTPUT_BUCKETS: 'video-library' }));
  assert.equal(planJob({ source: { bucket: 'video-mp4', key: 'talk.mp4' }, output: { bucket: 'video-library' } }, DEFAULTS, toLibrary).outputBucket, 'video-library');
  assert.equal(planJob({ source: { bucket: 'video-mp4', key: 'in/talk.mp4' } }, DEFAULTS, RULES).stem, 'talk', 'a source in a folder is not at the outputs’ place');
  assert.ok(isClipName('a_000.mp4', 'a') && isClipName('a.mp4', 'a') && !isClipName('a_0001.mp4', 'a') && !isClipName('a_x00.mp4', 'a'));
});

test('the clip watcher hands over a clip once the next one is opened, and the last once ffmpeg has exited', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'vigil-watch-'));
  try {
    const plan = planClips(300, 'cam', dir);
    const outputs = { ...plan, segmentList: join(dir, 'clips.csv') };
    const ready: ClipFile[] = [];
    const w = new ClipWatcher(outputs, 'cam', (c) => ready.push(c));
    await w.poll(false);
    assert.equal(ready.length, 0, 'no list yet');
    await writeFile(join(dir, 'clip_000.mp4'), 'x');
    await writeFile(outputs.segmentList, 'clip_000.mp4,0.000000,120.000000\nclip_001.mp4,120.0000');
    await w.poll(false);
    assert.equal(ready.length, 0, 'listed, but the muxer may still be flushing it');
    await writeFile(join(dir, 'clip_001.mp4'), 'x');
    await w.poll(false);
    assert.deepEqual(ready.map((c) => [c.name, c.path, c.startSeconds, c.endSeconds]), [['cam_000.mp4', join(dir, 'clip_000.mp4'), 0, 120]]);
    await writeFile(outputs.segmentList, 'clip_000.mp4,0.000000,120.000000\nclip_001.mp4,120.000000,240.000000\nclip_002.mp4,240.000000,300.000000\n');
    await w.poll(false);
    assert.equal(ready.length, 2, 'a later row closes the one before it');
    await w.poll(true);
    assert.deepEqual(ready.map((c) => c.name), ['cam_000.mp4', 'cam_001.mp4', 'cam_002.mp4']);
    await w.poll(true);
    assert.equal(ready.length, 3, 'each clip once');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('job folders: removed after success and failure; leftovers of dead processes on this host swept', async () => {
  const root = await mkdtemp(join(tmpdir(), 'vigil-jobs-'));
  try {
    const inside = await withJobDir(root, 1, silent, async (d) => {
      await writeFile(join(d, 'source'), 'x');
      return d;
    });
    assert.ok(inside.startsWith(root));
    await assert.rejects(withJobDir(root, 2, silent, async (d) => {
      await mkdir(join(d, 'clips'));
      throw new TransientError('X', 'boom');
    }), code('X'));
    assert.deepEqual(await readdir(root), []);
    const mine = jobDirName(process.pid, 3);
    const dead = jobDirName(2 ** 22 + 12345, 4);
    const elsewhere = jobDirName(1, 5, 'another-host');
    for (const n of [mine, dead, elsewhere, 'unrelated']) await mkdir(join(root, n));
    assert.deepEqual((await sweepJobDirs(root, silent)).sort(), [dead, mine].sort());
    assert.deepEqual((await readdir(root)).sort(), [elsewhere, 'unrelated'].sort());
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('free disk below the floor is a transient LOW_DISK; a floor of 0 is never checked', async () => {
  await assert.rejects(checkFreeDisk('/x', 2 * 1024 ** 3, async () => 1024 ** 3), (err: unknown) => err instanceof TransientError && err.code === 'LOW_DISK' && /1\.0 GiB free/.test(err.message));
  await checkFreeDisk('/x', 2 * 1024 ** 3, async () => 3 * 1024 ** 3);
  await checkFreeDisk('/x', 0, async () => assert.fail('not called'));
  assert.equal(formatBytes(512), '512 B');
  assert.equal(formatBytes(1536 * 1024), '1.5 MiB');
});

test('error messages lose the job folder, keep their code, kind and cause', () => {
  const err = new PermanentError('NOT_A_VIDEO', 'not a video: file:/w/job_1/source: Invalid data found');
  const clean = withoutWorkPaths(err, '/w/job_1') as PermanentError;
  assert.equal(clean.message, 'not a video: source: Invalid data found');
  assert.ok(clean instanceof PermanentError && clean.code === 'NOT_A_VIDEO' && clean.cause === err);
  const other = new Error('elsewhere');
  assert.equal(withoutWorkPaths(other, '/w/job_1'), other);
});

test('outputs must cover the source end to end before anything acts on them', () => {
  const clip = (key: string, startSeconds: number, endSeconds: number) => ({ key, startSeconds, endSeconds });
  checkCoverage([clip('a_000.mp4', 0, 120), clip('a_001.mp4', 120, 240), clip('a_002.mp4', 240, 300.04)], { start: 0, end: 300.04 });
  checkCoverage([clip('a_001.mp4', 120.02, 240), clip('a_000.mp4', 0, 120.02)], { start: 0, end: 240 });
  checkCoverage([clip('talk.mp4', 12.5, 1830)], { start: 12.5, end: 1830 });
  const incomplete = (err: unknown) => code('OUTPUT_INCOMPLETE')(err) && /the source is kept/.test((err as Error).message);
  assert.throws(() => checkCoverage([clip('a_000.mp4', 0, 120), clip('a_002.mp4', 240, 300)], { start: 0, end: 300 }), incomplete);
  assert.throws(() => checkCoverage([clip('a.mp4', 0, 150)], { start: 0, end: 300 }), incomplete);
  assert.throws(() => checkCoverage([clip('a.mp4', 3, 300)], { start: 0, end: 300 }), incomplete);
  assert.throws(() => checkCoverage([], { start: 0, end: 10 }), incomplete);
});

test("a source whose data stops before its header's length is truncated: refused and kept", () => {
  const info = (durationSeconds: number, frames?: number) =>
    ({ formatName: 'avi', durationSeconds, video: { codec: 'mpeg4', width: 320, height: 240, fps: 25, ...(frames !== undefined && { frames }) } }) as VideoInfo;
  // Measured: a 5.04 s AVI cut in half by `head -c` probes 2.52 s with its header's 126 frames.
  assert.throws(() => checkNotTruncated(info(2.52, 126)), (err: unknown) => code('SOURCE_TRUNCATED')(err) && /2\.52 s of the 5\.04 s/.test((err as Error).message));
  assert.equal(declaredSeconds(info(2.52, 126)), 5.04);
  checkNotTruncated(info(5.04, 126));
  checkNotTruncated(info(300, 7490)); // a frame or two short is not truncation
  checkNotTruncated(info(12)); // no frame count in the header (MKV): the duration is all there is
});

test('media limits: every one is checked from the probe and the header claims, and names its variable', () => {
  const video = (o: Partial<VideoInfo['video']> & { seconds?: number } = {}) =>
    ({ formatName: 'matroska', durationSeconds: o.seconds ?? 60, video: { codec: 'ffv1', width: o.width ?? 640, height: o.height ?? 480, fps: o.fps ?? 25, ...(o.frames !== undefined && { frames: o.frames }) } }) as VideoInfo;
  const L = MEDIA_LIMIT_DEFAULTS;
  const split = { split: { maxSeconds: 240, clipSeconds: 120 }, frameEvery: 10 };
  const refused = (info: VideoInfo, work: PlannedWork, variable: string) =>
    assert.throws(() => checkMediaLimits(info, work, L), (err: unknown) => code('LIMIT_EXCEEDED')(err) && (err as Error).message.includes(`over ${variable} (`), variable);
  checkMediaLimits(video(), split, L);
  checkMediaLimits(video({ seconds: 7200 }), split, L); // a 2-hour camera file: 60 clips, 18,000 frames
  refused(video({ seconds: 1e9 }), split, 'TRANSCODER_MAX_DURATION');
  refused(video({ frames: 25 * 1e9 }), {}, 'TRANSCODER_MAX_DURATION'); // the header's frame count claims it
  refused(video({ width: 16000, height: 16000 }), {}, 'TRANSCODER_MAX_WIDTH');
  refused(video({ width: 4096, height: 4096 }), {}, 'TRANSCODER_MAX_PIXELS');
  refused(video({ fps: 1e6 }), {}, 'TRANSCODER_MAX_FPS');
  refused(video({ seconds: 5 }), { split: { maxSeconds: 1, clipSeconds: 0.000001 } }, 'TRANSCODER_MAX_CLIPS');
  refused(video({ seconds: 7200 }), { frameEvery: 1 }, 'TRANSCODER_MAX_FRAMES');
  // A trim makes one file: no clip or frame count applies.
  checkMediaLimits(video({ seconds: 7200 }), {}, L);
  assert.ok(decoderPixelBound(L) > L.maxPixels * 1.6, 'decoders allocate padded pictures: 320×240 decodes into 448×280');
});

test('the clip planner counts before it builds: a million clips are refused without a list', () => {
  assert.throws(() => planClips(1e9, 'x', '/tmp', { maxSeconds: 240, clipSeconds: 120 }), code('LIMIT_EXCEEDED'));
  assert.throws(() => planClips(5, 'x', '/tmp', { maxSeconds: 1, clipSeconds: 0.000001 }), code('LIMIT_EXCEEDED'));
  assert.equal(planClips(300, 'x', '/tmp', { maxSeconds: 240, clipSeconds: 120 }).clips.length, 3);
  assert.equal(planClips(120_000, 'x', '/tmp', { maxSeconds: 240, clipSeconds: 120 }).clips.length, 1000);
});

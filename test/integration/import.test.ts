import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { CODECS } from '../../shared/contract/messages.ts';
import { createObjectStore } from '../../shared/storage/object-store.ts';
import { runCli } from '../helpers/cli.ts';
import { HttpFaultProxy } from '../helpers/http-fault-proxy.ts';
import { drainQueue } from '../helpers/runtime-harness.ts';
import { startS3Server, type S3TestServer } from '../helpers/s3-server.ts';
import { createTestEnv, type TestEnv } from '../helpers/test-env.ts';

let s3: S3TestServer;
let proxy: HttpFaultProxy;
let t: TestEnv;
const BUCKET = `imp-${randomBytes(4).toString('hex')}`;
const work = mkdtempSync(join(tmpdir(), 'vigil-import-'));
const dir = join(work, 'in');
const hourAgo = new Date(Date.now() - 3600_000);

// The seed's regex, with any extension: matches the absolute path of a file at the top too.
const REGEX = '.*/(?P<camera>\\w+?)\\-(?P<epoch>\\d+)\\.\\w+';
const HOOK = { img_x_size: 640, img_y_size: 360, plan: 'plus', cameras: { cam2: { img_x_size: 1280, img_y_size: 720 } } };

function put(rel: string, bytes = 20_000, mtime = hourAgo): Buffer {
  const path = join(dir, rel);
  mkdirSync(dirname(path), { recursive: true });
  const data = randomBytes(bytes);
  writeFileSync(path, data);
  utimesSync(path, mtime, mtime);
  return data;
}

const contents = new Map<string, Buffer>();

before(async () => {
  s3 = await startS3Server();
  proxy = await HttpFaultProxy.start(s3.endpoint);
  t = await createTestEnv('import', { ...s3.env, S3_ENDPOINT: proxy.endpoint, BUCKET_SOURCE: BUCKET });
  for (const rel of [
    'cam2-1511894100.mp4',
    'cam4-1511894400.mp4',
    'site-a/cam1-1511893800.mp4',
    'site-a/cam1-1511893900.mp4',
    'site-a/deep/cam2-1511894000.avi',
    'site-b/cam3-1511894200.MP4',
    'site-b/holiday.mp4',
    'site-c/cam1-1511893800.mp4',
  ]) {
    contents.set(rel, put(rel));
  }
  // Still being written: modified just now.
  contents.set('site-b/cam5-1511894500.mp4', put('site-b/cam5-1511894500.mp4', 20_000, new Date()));
  writeFileSync(join(dir, 'site-b/notes.txt'), 'not a video');
  writeFileSync(join(work, 'outside-cam9-1511899999.mp4'), 'outside the folder');
  symlinkSync(join(work, 'outside-cam9-1511899999.mp4'), join(dir, 'link-cam9-1511899999.mp4'));
});

after(async () => {
  rmSync(work, { recursive: true, force: true });
  await t?.cleanup();
  await proxy?.close();
  await s3?.close();
});

interface RunDoc {
  jobId: string;
  resumed: boolean;
  status: string;
  uploaded: number;
  skipped: number;
  failed: number;
  published: number;
  unmatched: string[];
  passedOver: { path: string; reason: string }[];
}

const importArgs = (...extra: string[]) => ['import', dir, '--regex', REGEX, '--shard-size', '2', '--settle', '30s', '--json', ...extra];
const puts = () => proxy.seen.filter((s) => s.startsWith('PUT ') && s.includes(`/${BUCKET}/`) && !s.includes('uploadId=')).map((s) => s.slice(4 + BUCKET.length + 2).replace(/\?.*$/, ''));
const shardMap = async (jobId: string) => {
  const r = await runCli(['import', 'status', jobId, '--json'], t.env);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as { jobId: string; status: string; shards: { shardId: number; itemCount: number; status: string; uploaded: number; failed: number; missing: number }[]; problems: { path: string; code: string }[] };
};
const transcoderJobs = async () =>
  (await drainQueue(`${t.prefix}transcoder`)).map((m) => CODECS.transcoder.parse(Buffer.from(m.body))).sort((a, b) => a.source.key.localeCompare(b.source.key));

let jobId = '';

test('first run: nested folder, names that do not match, a link out of the folder, a file being written, an upload that fails', async () => {
  const failing = `/${BUCKET}/cam4/`;
  proxy.failWhen = (req) => req.method === 'PUT' && (req.url ?? '').startsWith(failing);
  const r = await runCli(importArgs('--hook-data-json', JSON.stringify(HOOK)), t.env, { timeoutMs: 120_000 });
  proxy.failWhen = undefined;
  assert.equal(r.code, 1, `a failed file makes the exit code non-zero\n${r.stderr}`);
  assert.notEqual(r.stdout, '', r.stderr);
  const doc = JSON.parse(r.stdout) as RunDoc;
  jobId = doc.jobId;
  assert.match(jobId, /^[a-z2-7]{12}$/);
  assert.deepEqual(
    { resumed: doc.resumed, uploaded: doc.uploaded, skipped: doc.skipped, failed: doc.failed, published: doc.published, unmatched: doc.unmatched },
    { resumed: false, uploaded: 5, skipped: 1, failed: 1, published: 5, unmatched: ['site-b/holiday.mp4'] },
  );
  const reasons = Object.fromEntries(doc.passedOver.map((p) => [p.path, p.reason]));
  assert.match(reasons['link-cam9-1511899999.mp4'] ?? '', /symbolic link/);
  assert.match(reasons['site-c/cam1-1511893800.mp4'] ?? '', /same object \(cam1\/1511893800\.mp4\) as site-a\/cam1-1511893800\.mp4/);
  assert.match(reasons['site-b/holiday.mp4'] ?? '', /does not match --regex/);
  assert.match(r.stderr, /skipped site-b\/cam5-1511894500\.mp4: modified \d+\.\d s ago, still being written/);
  assert.match(r.stderr, /failed cam4-1511894400\.mp4: upload in bucket .* failed/);
  assert.ok(proxy.cuts >= 1);
  assert.ok(!puts().some((k) => k.startsWith('cam9/')), 'the link was not followed');

  const map = await shardMap(jobId);
  assert.equal(map.status, 'failed');
  assert.deepEqual(
    map.shards.map((s) => [s.shardId, s.itemCount, s.status, s.uploaded, s.failed, s.missing]),
    [
      [0, 2, 'failed', 1, 1, 0], // cam2-1511894100.mp4 (matched by its absolute path), cam4 (cut)
      [1, 2, 'uploaded', 2, 0, 0], // site-a/cam1 ×2
      [2, 2, 'uploaded', 2, 0, 0], // site-a/deep/cam2 .avi, site-b/cam3 .MP4
      [3, 1, 'missing', 0, 0, 1], // site-b/cam5, still being written
    ],
  );
  assert.deepEqual(map.problems.map((p) => [p.path, p.code]), [['cam4-1511894400.mp4', 'STORAGE_UNAVAILABLE'], ['site-b/cam5-1511894500.mp4', 'FILE_CHANGING']]);

  // Stored under <camera>/<epoch>.<ext>, with the SHA-256 of the whole content recorded.
  const rows = await t.database().db.selectFrom('import_file').select(['rel_path', 'object_key', 'sha256', 'status']).where('job_id', '=', jobId).orderBy('rel_path').execute();
  const store = createObjectStore(t.config.s3);
  try {
    for (const row of rows.filter((x) => x.status === 'uploaded')) {
      const want = createHash('sha256').update(contents.get(row.rel_path)!).digest('hex');
      assert.equal(row.sha256, want, row.rel_path);
      const local = join(work, 'got');
      await store.download(BUCKET, row.object_key, local);
      assert.equal(createHash('sha256').update(readFileSync(local)).digest('hex'), want, `${row.object_key} holds the file's bytes`);
      assert.equal((await store.head(BUCKET, row.object_key))?.metadata['vigil-import-job'], jobId);
    }
    assert.equal(await store.exists(BUCKET, 'cam4/1511894400.mp4'), false);
  } finally {
    store.close();
  }

  const jobs = await transcoderJobs();
  assert.deepEqual(
    jobs.map((j) => [j.source.bucket, j.source.key, j.frames]),
    [
      [BUCKET, 'cam1/1511893800.mp4', { width: 640, height: 360 }],
      [BUCKET, 'cam1/1511893900.mp4', { width: 640, height: 360 }],
      [BUCKET, 'cam2/1511894000.avi', { width: 1280, height: 720 }], // per-camera override
      [BUCKET, 'cam2/1511894100.mp4', { width: 1280, height: 720 }],
      [BUCKET, 'cam3/1511894200.mp4', { width: 640, height: 360 }],
    ],
  );
  for (const j of jobs) assert.match(j.jobId ?? '', new RegExp(`^import:${jobId}:\\d+:[0-9a-f]{16}$`));
});

test('second run resumes: only the failed file, the one no longer being written and a new one are uploaded', async () => {
  assert.ok(jobId, 'needs the first run');
  utimesSync(join(dir, 'site-b/cam5-1511894500.mp4'), hourAgo, hourAgo);
  contents.set('site-d/cam6-1511894600.mp4', put('site-d/cam6-1511894600.mp4'));
  const hookFile = join(work, 'hook.json');
  writeFileSync(hookFile, JSON.stringify(HOOK));
  proxy.seen.length = 0;
  const r = await runCli(importArgs('--hook-data-json-file', hookFile), t.env, { timeoutMs: 120_000 });
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout) as RunDoc;
  assert.deepEqual([doc.jobId, doc.resumed, doc.uploaded, doc.skipped, doc.failed, doc.status], [jobId, true, 3, 5, 0, 'uploaded']);
  assert.match(r.stderr, new RegExp(`resuming import ${jobId} \\(same folder, regex, extensions and bucket\\): 3 files to upload, 5 already uploaded, 1 unmatched`));
  assert.deepEqual(puts().sort(), ['cam4/1511894400.mp4', 'cam5/1511894500.mp4', 'cam6/1511894600.mp4']);

  const map = await shardMap(jobId);
  assert.equal(map.status, 'uploaded');
  assert.deepEqual(
    map.shards.map((s) => [s.shardId, s.itemCount, s.status]),
    [[0, 2, 'uploaded'], [1, 2, 'uploaded'], [2, 2, 'uploaded'], [3, 2, 'uploaded']], // the new file fills the last shard
  );
  assert.deepEqual(map.problems, []);
  assert.deepEqual(
    (await transcoderJobs()).map((j) => [j.source.key, j.frames?.width]),
    [['cam4/1511894400.mp4', 640], ['cam5/1511894500.mp4', 640], ['cam6/1511894600.mp4', 640]],
  );
});

test('a duplicate run uploads and queues nothing', async () => {
  assert.ok(jobId, 'needs the first run');
  proxy.seen.length = 0;
  const r = await runCli(importArgs(), t.env);
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout) as RunDoc;
  assert.deepEqual([doc.jobId, doc.resumed, doc.uploaded, doc.skipped, doc.failed, doc.published], [jobId, true, 0, 8, 0, 0]);
  assert.deepEqual(puts(), []);
  assert.deepEqual(await transcoderJobs(), []);
  const text = await runCli(['import', 'status', jobId], t.env);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, new RegExp(`^import ${jobId}: uploaded\\n`));
  assert.match(text.stdout, /8 files: 8 uploaded, 0 failed, 0 to do; 1 unmatched names in the last of 3 runs/);
});

test('bad arguments: a regex without the groups, bad hook data, an unknown job; nothing is recorded', async () => {
  const noGroup = await runCli(['import', dir, '--regex', '.*/(?P<cam>\\w+)-(?P<epoch>\\d+)\\.mp4'], t.env);
  assert.equal(noGroup.code, 1);
  assert.match(noGroup.stderr, /--regex must have a named group "camera"/);
  const badHook = await runCli(['import', dir, '--regex', REGEX, '--hook-data-json', '{"cameras":{"cam1":{"img_x_sise":640}}}'], t.env);
  assert.equal(badHook.code, 1);
  assert.match(badHook.stderr, /--hook-data-json: cameras\.cam1: Unrecognized key.*img_x_sise/);
  const missing = await runCli(['import', join(work, 'nope'), '--regex', REGEX], t.env);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /cannot read .*nope: ENOENT/);
  const unknown = await runCli(['import', 'status', 'zzzzzzzzzzzz'], t.env);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /no import job "zzzzzzzzzzzz"/);
  const jobs = await t.database().db.selectFrom('import_job').select('id').execute();
  assert.deepEqual(jobs.map((j) => j.id), [jobId]);
});

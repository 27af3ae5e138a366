import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { uploadKeyHash, uploaderRepository } from '../../db/repositories/uploader.repository.ts';
import type { UploadTarget } from '../../db/schema.ts';
import { CODECS, type Notification, type UploadJob } from '../../shared/contract/messages.ts';
import type { JobContext } from '../../shared/runtime/consumer.ts';
import { uploaderHandler, type Deps } from '../../services/uploader/handler.ts';
import { captureLogger } from '../helpers/runtime-harness.ts';
import { createTestEnv, type TestEnv } from '../helpers/test-env.ts';

// The uploader's handler against the real repository (MariaDB), with targets that only
// count their runs: what a job may make the handler do, whatever its targets and resends.

const hex = () => randomBytes(3).toString('hex');
let t: TestEnv;

before(async () => {
  t = await createTestEnv('uploaderhandler', {});
});
after(async () => {
  await t?.cleanup();
});

function harness() {
  const runs: UploadTarget[] = [];
  const published: Notification[] = [];
  const target = (name: UploadTarget) => async (job: UploadJob) => {
    runs.push(name);
    return { remoteId: `${name}-1`, url: `https://${name}.example.org/${encodeURIComponent(job.source.key)}`, sourceEtag: '"e1"', sourceBytes: 10 };
  };
  const deps: Deps = {
    repo: uploaderRepository(t.database().db),
    locks: { withLock: (_key, fn) => fn(new AbortController().signal), isFree: async () => true },
    targets: { library: target('library'), facebook: target('facebook') },
    defaultTargets: ['library'],
    sourceBuckets: ['video-mp4'],
    publishNotice: async (n) => void published.push(n),
    rateLimitWaitMs: 1000,
    maxPostpones: 1,
    worker: 'test',
    maxAttempts: 3,
  };
  const ctx: JobContext = { log: captureLogger('warn').logger, attempt: 1, redelivered: false, messageId: undefined, signal: new AbortController().signal };
  return { runs, published, handle: uploaderHandler(deps), ctx };
}

const rowsOf = (job: UploadJob, target: UploadTarget) =>
  t.database().db.selectFrom('upload').selectAll().where('key_sha256', '=', uploadKeyHash(CODECS.uploader.key(job)!, target)).execute();

test('targets ["facebook", "facebook"]: the codec folds them, and the handler runs the target once even when given them twice', async () => {
  const body = { source: { bucket: 'video-mp4', key: `dup-${hex()}.mp4` }, title: 'Twice', targets: ['facebook', 'facebook'] };
  assert.deepEqual(CODECS.uploader.parse(Buffer.from(JSON.stringify(body))).targets, ['facebook']);
  assert.throws(() => CODECS.uploader.parse(Buffer.from(JSON.stringify({ ...body, targets: ['library', 'facebook', 'library'] }))), /targets/);

  const h = harness();
  const job = body as UploadJob;
  assert.equal(await h.handle(job, h.ctx), 'done');
  assert.deepEqual(h.runs, ['facebook'], 'published on Facebook once');
  assert.equal((await rowsOf(job, 'facebook')).length, 1);
  assert.equal(await h.handle(job, h.ctx), 'duplicate');
  assert.deepEqual(h.runs, ['facebook']);
});

test('a resend with a new title and an extra speaker is refused as UPLOAD_JOB_CONFLICT: nothing runs, nobody is mailed, the recorded job is unchanged', async () => {
  const h = harness();
  const job: UploadJob = { source: { bucket: 'video-mp4', key: `resend-${hex()}.mp4` }, title: 'The published title', speakers: [{ name: 'Ada', email: 'ada@example.org' }] };
  assert.equal(await h.handle(job, h.ctx), 'done');
  assert.deepEqual(h.published.map((n) => [n.to[0], n.data?.title]), [['ada@example.org', 'The published title']]);

  // The same job again (a redelivery, the same content in another key order): a duplicate, nobody mailed again.
  assert.equal(await h.handle({ speakers: job.speakers, title: job.title, source: job.source }, h.ctx), 'duplicate');
  assert.equal(h.published.length, 1);

  const changed: UploadJob = { ...job, title: 'A new title', speakers: [...job.speakers!, { name: 'Bob', email: 'bob@example.org' }] };
  await assert.rejects(h.handle(changed, h.ctx), (err: any) => {
    assert.equal(err.code, 'UPLOAD_JOB_CONFLICT');
    assert.equal(err.permanent, true, 'dead-lettered, not retried');
    assert.match(err.message, /title, speakers/);
    return true;
  });
  assert.equal(h.published.length, 1, 'the new speaker is not mailed a title that is not published');
  assert.deepEqual(h.runs, ['library']);
  const [row] = await rowsOf(job, 'library');
  assert.equal(JSON.parse(row!.job).title, job.title, 'the job as published is kept');

  // A changed description alone is a conflict as well (the sidecar and Facebook show it).
  await assert.rejects(h.handle({ ...job, description: 'Another text' }, h.ctx), { code: 'UPLOAD_JOB_CONFLICT' });
  // An added target with the same content is not: the new target publishes what the others did.
  assert.equal(await h.handle({ ...job, targets: ['library', 'facebook'] }, h.ctx), 'done');
  assert.deepEqual(h.runs, ['library', 'facebook']);
});

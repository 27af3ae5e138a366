import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jobKeyHash } from '../../db/repositories/transcoder.repository.ts';
import { loadConfig } from '../../services/config.ts';
import { CODECS } from '../../shared/contract/messages.ts';
import { createObjectStore, type S3ObjectStore } from '../../shared/storage/object-store.ts';
import { BIN } from '../helpers/cli.ts';
import { runProcess } from '../helpers/process.ts';
import { publishRaw, queueDepth, waitFor } from '../helpers/runtime-harness.ts';
import { startS3Server, type S3TestServer } from '../helpers/s3-server.ts';
import { createTestEnv, type TestEnv } from '../helpers/test-env.ts';
import { FIVE_MINUTES, makeAvi } from '../helpers/videos.ts';

let s3: S3TestServer;
let t: TestEnv;
let dir: string;
let store: S3ObjectStore;
const running = new Set<ReturnType<typeof runProcess>>();

before(async () => {
  s3 = await startS3Server();
  dir = await mkdtemp(join(tmpdir(), 'vigil-poison-'));
  t = await createTestEnv('poison', { ...s3.env, VIGIL_WORK_DIR: join(dir, 'work'), TRANSCODER_MAX_DEATHS: '2', LOG_LEVEL: 'info' });
  store = createObjectStore(loadConfig(t.env).s3);
  await store.ensureBucket('video-avi');
  const five = join(dir, 'five.avi');
  await makeAvi(five, { sections: FIVE_MINUTES });
  await store.upload('video-avi', 'cam7/poison.avi', five);
});
after(async () => {
  for (const p of running) p.child.kill('SIGKILL');
  store?.close();
  await t?.cleanup();
  await s3?.close();
  await rm(dir, { recursive: true, force: true });
});

const row = () => t.database().db.selectFrom('video_job').selectAll().where('job_key_sha256', '=', jobKeyHash('poison-1')).executeTakeFirst();

function startTranscoder() {
  const p = runProcess([BIN, 'run', 'transcoder'], t.env, 120_000);
  running.add(p);
  void p.exited.then(() => running.delete(p));
  return p;
}

test('a job whose process dies every time it runs is recognised on redelivery and failed for good after TRANSCODER_MAX_DEATHS; the source is kept', async () => {
  for (let death = 1; death <= 2; death++) {
    const p = startTranscoder();
    await waitFor('the consumer', () => p.logs().some((l) => l.msg === 'consuming'), 30_000, 50);
    // The first consumer declares the queue; the job goes in once it exists.
    if (death === 1) {
      await publishRaw(`${t.prefix}transcoder`, [CODECS.transcoder.encode({ jobId: 'poison-1', source: { bucket: 'video-avi', key: 'cam7/poison.avi' } })]);
    }
    // Killed while it works, as the kernel's OOM killer would: no outcome is recorded.
    await waitFor(`attempt ${death} running`, async () => (await row())?.status === 'running' && (await row())?.attempts === death, 60_000, 50);
    p.child.kill('SIGKILL');
    await p.exited;
    const r = await row();
    assert.equal(r?.status, 'running', 'the dead process left the row running');
    assert.equal(r?.deaths, death - 1);
  }
  const last = startTranscoder();
  await waitFor('the job failed for good', async () => (await row())?.status === 'failed', 60_000, 100);
  const r = (await row())!;
  assert.deepEqual([r.error_code, r.deaths, r.attempts], ['WORKER_DIED', 2, 2]);
  assert.match(r.error_message!, /^2 processes died running this job \(the last .+:\d+, while running\); failed for good so it cannot crash-loop \(TRANSCODER_MAX_DEATHS is 2\); the source is kept$/);
  assert.equal(await store.exists('video-avi', 'cam7/poison.avi'), true);
  assert.ok(last.logs().some((l) => l.msg === 'video job failed: it killed the process that ran it, again'));
  await waitFor('the message acked', async () => (await queueDepth(`${t.prefix}transcoder`)) === 0, 10_000);
  assert.equal(await queueDepth(`${t.prefix}transcoder.dlq`), 0, 'recorded and acked, not dead-lettered');
  // The process that found it is alive and well, and stops cleanly.
  assert.equal(last.child.exitCode, null);
  last.child.kill('SIGTERM');
  assert.equal((await last.exited).code, 0);
});

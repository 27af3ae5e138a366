import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { CODECS } from '../../shared/contract/messages.ts';
import { BIN, runCli } from '../helpers/cli.ts';
import { HttpFaultProxy } from '../helpers/http-fault-proxy.ts';
import { drainQueue } from '../helpers/runtime-harness.ts';
import { startS3Server, type S3TestServer } from '../helpers/s3-server.ts';
import { createTestEnv, type TestEnv } from '../helpers/test-env.ts';

/**
 * `vigil import` run twice at once, killed mid-run, and fed hostile names: one run per
 * import at a time, a dead run told from a live one, names printed escaped.
 */

let s3: S3TestServer;
let proxy: HttpFaultProxy;
let t: TestEnv;
const BUCKET = `impc-${randomBytes(4).toString('hex')}`;
const work = mkdtempSync(join(tmpdir(), 'vigil-import-concurrent-'));
const hourAgo = new Date(Date.now() - 3600_000);
const REGEX = '.*/(?P<camera>\\w+?)\\-(?P<epoch>\\d+)\\.\\w+';

function put(dir: string, rel: string, mtime = hourAgo): void {
  const path = join(dir, rel);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, randomBytes(4000));
  utimesSync(path, mtime, mtime);
}

/** Object PUTs to the bucket seen by the proxy, as keys. */
const puts = () =>
  proxy.seen.filter((s) => s.startsWith('PUT ') && s.includes(`/${BUCKET}/`) && !s.includes('uploadId=')).map((s) => s.slice(4 + BUCKET.length + 2).replace(/\?.*$/, ''))
    .filter((k) => k !== ''); // the bucket's own creation
const transcoderKeys = async () =>
  (await drainQueue(`${t.prefix}transcoder`)).map((m) => CODECS.transcoder.parse(Buffer.from(m.body)).source.key).sort();
const count = (xs: string[]) => xs.reduce<Record<string, number>>((c, x) => ({ ...c, [x]: (c[x] ?? 0) + 1 }), {});

before(async () => {
  s3 = await startS3Server();
  proxy = await HttpFaultProxy.start(s3.endpoint);
  t = await createTestEnv('import_concurrent', { ...s3.env, S3_ENDPOINT: proxy.endpoint, BUCKET_SOURCE: BUCKET });
});

after(async () => {
  rmSync(work, { recursive: true, force: true });
  await t?.cleanup();
  await proxy?.close();
  await s3?.close();
});

test('two imports of one folder at once: each file uploaded once, each transcoder job queued once, both end with a clear outcome', async () => {
  const dir = join(work, 'twice');
  const names = Array.from({ length: 6 }, (_, i) => `cam${i}-151189${i}000.mp4`);
  for (const n of names) put(dir, n);
  proxy.seen.length = 0;
  // A run of about 6 s: the two processes start well within it, whatever their start-up times.
  proxy.putDelayMs = 1000;
  const args = ['import', dir, '--regex', REGEX, '--concurrency', '1', '--json'];
  const [a, b] = await Promise.all([runCli(args, t.env, { timeoutMs: 120_000 }), runCli(args, t.env, { timeoutMs: 120_000 })]);
  proxy.putDelayMs = 0;

  const keys = names.map((n) => `${n.split('-')[0]}/${Number(n.split('-')[1]!.split('.')[0])}.mp4`).sort();
  assert.deepEqual(count(puts()), Object.fromEntries(keys.map((k) => [k, 1])), `each file uploaded once\n${a.stderr}\n${b.stderr}`);
  assert.deepEqual(await transcoderKeys(), keys, 'each job queued once');

  // One run did the work; the other was refused, saying which run holds the import.
  const [done, refused] = a.code === 0 ? [a, b] : [b, a];
  assert.equal(done.code, 0, done.stderr);
  const doc = JSON.parse(done.stdout) as { jobId: string; uploaded: number; status: string };
  assert.deepEqual([doc.uploaded, doc.status], [6, 'uploaded']);
  assert.equal(refused.code, 1, refused.stdout);
  assert.equal(refused.stdout, '');
  // Which run holds it, or, when the refusal came before the holder had written its pid (a
  // loaded host starts the two processes close together), that it is starting.
  assert.match(
    refused.stderr,
    new RegExp(`import ${doc.jobId} of .* is already running \\(pid \\d+ on [^,]+, since \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z\\)|an import of .* is already running \\(it is starting\\)`),
  );
  assert.match(refused.stderr, /\(IMPORT_RUNNING\)\n$/, 'the refusal names its code, as the other refusals do');
});

test('an import killed with SIGKILL mid-upload is reported interrupted, not uploading, and the next run resumes it', async () => {
  const dir = join(work, 'killed');
  for (const n of ['cam1-1511890001.mp4', 'cam2-1511890002.mp4', 'cam3-1511890003.mp4']) put(dir, n);
  proxy.seen.length = 0;
  proxy.holdWhen = (req) => req.method === 'PUT' && (req.url ?? '').startsWith(`/${BUCKET}/cam2/`);
  const child = spawn(process.execPath, [BIN, 'import', dir, '--regex', REGEX, '--concurrency', '1', '--json'], {
    env: { PATH: process.env.PATH ?? '', ...t.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<string | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
  try {
    for (let i = 0; proxy.held.length === 0; i++) {
      assert.ok(i < 600, `the upload of cam2 never started\n${stderr}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const job = await t.database().db.selectFrom('import_job').select('id').where('directory', 'like', '%/killed').executeTakeFirstOrThrow();

    // While it runs: uploading, and by whom.
    const live = await runCli(['import', 'status', job.id, '--json'], t.env);
    assert.equal(live.code, 0, live.stderr);
    const liveDoc = JSON.parse(live.stdout) as { status: string; running: { by: string; since: string } | null };
    assert.equal(liveDoc.status, 'uploading');
    assert.match(liveDoc.running?.by ?? '', new RegExp(`^pid ${child.pid} on `));

    child.kill('SIGKILL');
    assert.equal(await exited, 'SIGKILL');
    proxy.holdWhen = undefined;
    for (const req of proxy.held.splice(0)) req.socket.destroy();

    const dead = await runCli(['import', 'status', job.id, '--json'], t.env);
    assert.equal(dead.code, 0, dead.stderr);
    const deadDoc = JSON.parse(dead.stdout) as { status: string; running: unknown; shards: { status: string }[] };
    assert.equal(deadDoc.status, 'interrupted');
    assert.equal(deadDoc.running, null);
    assert.ok(!deadDoc.shards.some((s) => s.status === 'uploading'), JSON.stringify(deadDoc.shards));
    const text = await runCli(['import', 'status', job.id], t.env);
    assert.match(text.stdout, new RegExp(`^import ${job.id}: interrupted \\(no run holds it: run the same import again to resume\\)\\n`));

    const again = await runCli(['import', dir, '--regex', REGEX, '--json'], t.env, { timeoutMs: 120_000 });
    assert.equal(again.code, 0, again.stderr);
    const doc = JSON.parse(again.stdout) as { jobId: string; resumed: boolean; status: string; failed: number };
    assert.deepEqual([doc.jobId, doc.resumed, doc.status, doc.failed], [job.id, true, 'uploaded', 0]);
    const after = JSON.parse((await runCli(['import', 'status', job.id, '--json'], t.env)).stdout) as { status: string };
    assert.equal(after.status, 'uploaded');
    await drainQueue(`${t.prefix}transcoder`);
  } finally {
    child.kill('SIGKILL');
    proxy.holdWhen = undefined;
  }
});

test('hostile file names reach the terminal escaped; a linked sub-folder is listed in the summary and in --json', async () => {
  const dir = join(work, 'names');
  const evilDir = 'x\x1b]0;owned\x07\x1b[2J\x9by';
  const evilName = 'a\nb\u202ec\rd-holiday.mp4';
  put(dir, `${evilDir}/cam7-1511897000.mp4`, new Date()); // still being written: listed with its name
  put(dir, evilName); // unmatched
  put(dir, 'cam8-1511898000.mp4');
  mkdirSync(join(work, 'elsewhere'), { recursive: true });
  put(join(work, 'elsewhere'), 'cam9-1511899000.mp4');
  symlinkSync(join(work, 'elsewhere'), join(dir, 'linked'));

  const human = await runCli(['import', dir, '--regex', REGEX], t.env, { timeoutMs: 120_000 });
  assert.equal(human.code, 0, human.stderr);
  for (const [what, out] of [['stderr', human.stderr], ['stdout', human.stdout]] as const) {
    assert.doesNotMatch(out, /[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e]/, `${what} holds a raw control character: ${JSON.stringify(out)}`);
  }
  assert.ok(human.stderr.includes('x\\u001b]0;owned\\u0007\\u001b[2J\\u009by/cam7-1511897000.mp4'), human.stderr);
  assert.ok(human.stderr.includes('a\\nb\\u202ec\\rd-holiday.mp4'), human.stderr);
  assert.match(human.stdout, /passed over linked: a symbolic link to a folder \(not followed: the files in it are not imported\)/);
  const jobId = /^import ([a-z2-7]{12})/.exec(human.stdout)?.[1] ?? '';
  const status = await runCli(['import', 'status', jobId], t.env);
  assert.equal(status.code, 0, status.stderr);
  assert.doesNotMatch(status.stdout, /[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e]/, JSON.stringify(status.stdout));
  assert.ok(status.stdout.includes('x\\u001b]0;owned\\u0007\\u001b[2J\\u009by/cam7-1511897000.mp4'), status.stdout);

  const json = await runCli(['import', dir, '--regex', REGEX, '--json'], t.env, { timeoutMs: 120_000 });
  assert.equal(json.code, 0, json.stderr);
  const doc = JSON.parse(json.stdout) as { jobId: string; uploaded: number; skipped: number; failed: number; unmatched: string[]; passedOver: { path: string; reason: string }[] };
  assert.deepEqual(doc.unmatched, [evilName], 'JSON keeps the names as they are');
  assert.ok(doc.passedOver.some((p) => p.path === 'linked' && /symbolic link to a folder/.test(p.reason)), JSON.stringify(doc.passedOver));
  assert.ok(!puts().some((k) => k.startsWith('cam9/')));
  await drainQueue(`${t.prefix}transcoder`);
});

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { runCli } from '../helpers/cli.ts';
import { startS3Server, type S3TestServer } from '../helpers/s3-server.ts';
import { createTestEnv, type TestEnv } from '../helpers/test-env.ts';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { createS3Client } from '../../shared/storage/s3-client.ts';
import { publishRaw } from '../helpers/runtime-harness.ts';
import { connect } from 'amqplib';
import { topologyOptions } from '../../shared/app/app-context.ts';
import { assertTopology, describeTopology } from '../../shared/runtime/topology.ts';
import { migrationNames } from '../../db/migrate.ts';
import { SmtpTestServer } from '../helpers/smtp-test-server.ts';

interface Doc {
  ok: boolean;
  checks: { name: string; status: 'ok' | 'warn' | 'fail'; detail: string; fix?: string }[];
}

let t: TestEnv;
let s3: S3TestServer;
let smtp: SmtpTestServer;
let env: Record<string, string>;
let closedPort: number;
before(async () => {
  t = await createTestEnv('doctor');
  s3 = await startS3Server();
  // The notifier is one of "every service": its host check talks to a real SMTP server.
  smtp = await SmtpTestServer.start();
  env = { ...t.env, ...s3.env, SMTP_URL: smtp.url };
  // A port that was free a moment ago: nothing listens there.
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  closedPort = (probe.address() as AddressInfo).port;
  await new Promise<void>((r) => probe.close(() => r()));
});
after(async () => {
  await s3.close();
  await smtp.close();
  await t.cleanup();
});

async function doctor(args: string[], extra: Record<string, string> = {}): Promise<{ code: number | null; doc: Doc; stderr: string }> {
  const r = await runCli(['doctor', '--json', ...args], { ...env, ...extra }, { timeoutMs: 90_000 });
  assert.doesNotThrow(() => JSON.parse(r.stdout), `stdout is one JSON document: ${r.stdout.slice(0, 200)} ${r.stderr.slice(0, 500)}`);
  return { code: r.code, doc: JSON.parse(r.stdout) as Doc, stderr: r.stderr };
}

const byName = (doc: Doc, name: string) => {
  const c = doc.checks.find((x) => x.name === name);
  assert.ok(c, `no check named ${name} in ${doc.checks.map((x) => x.name).join(', ')}`);
  return c;
};

test('a healthy host: every check of every service passes, exit 0', async () => {
  const client = createS3Client({ endpoint: s3.endpoint, region: 'us-east-1', accessKeyId: s3.env.S3_ACCESS_KEY_ID, secretAccessKey: s3.env.S3_SECRET_ACCESS_KEY });
  for (const b of ['video-avi', 'video-mp4']) await client.send(new CreateBucketCommand({ Bucket: b }));
  client.destroy();
  const { code, doc } = await doctor([]);
  assert.equal(code, 0, JSON.stringify(doc));
  assert.equal(doc.ok, true);
  assert.deepEqual(
    doc.checks.map((c) => c.name),
    [
      'configuration', 'ffmpeg', 'ffprobe', 'ffmpeg features', 'face models', 'face engine', 'database', 'database schema', 'broker',
      `queue ${t.prefix}facetraining`, `queue ${t.prefix}facestreaming`, `queue ${t.prefix}transcoder`,
      `queue ${t.prefix}uploader`, `queue ${t.prefix}notifier`,
      'storage', 'bucket video-avi', 'bucket video-mp4', 'bucket unlabeled-images', 'bucket video-library',
      'smtp',
    ],
  );
  assert.deepEqual(doc.checks.filter((c) => c.status === 'fail'), []);
  assert.match(byName(doc, 'ffmpeg').detail, /^\d+\.\d+/);
  assert.equal(byName(doc, 'ffmpeg features').detail, 'libx264, aac, freezedetect, blackframe, blurdetect');
  assert.match(byName(doc, 'face engine').detail, /^backend (tensorflow|wasm|cpu), detector /);
  assert.match(byName(doc, 'database').detail, /^(MariaDB|MySQL) \d+\.\d+/);
  assert.ok(byName(doc, 'database schema').detail.includes(`migrations applied, the newest ${migrationNames().at(-1)}`), byName(doc, 'database schema').detail);
  assert.match(byName(doc, 'broker').detail, /RabbitMQ/);
  assert.equal(byName(doc, 'bucket video-avi').status, 'ok');
  assert.deepEqual([byName(doc, 'bucket unlabeled-images').status, byName(doc, 'bucket unlabeled-images').detail], ['warn', 'missing; created at first use']);
});

test('the plain table names each check with its status and what to do', async () => {
  const r = await runCli(['doctor', 'transcoder'], { ...env, FFMPEG_PATH: '/nonexistent' }, { timeoutMs: 60_000 });
  assert.equal(r.code, 1);
  const lines = r.stdout.trimEnd().split('\n');
  assert.match(lines[0]!, /^check\s+status\s+detail\s+what to do$/);
  assert.ok(lines.some((l) => /^ffmpeg\s+fail\s+\/nonexistent not found \(FFMPEG_PATH\)\s+install ffmpeg/.test(l)), r.stdout);
  assert.ok(lines.some((l) => /^database schema\s+ok\s+/.test(l)), r.stdout);
  assert.match(lines.at(-1)!, /^\d+ failed, \d+ warnings$/);
});

test('queue depths and dead letters are reported; dead letters warn', async () => {
  const conn = await connect(t.env.AMQP_URL!);
  try {
    await assertTopology(await conn.createChannel(), describeTopology('transcoder', topologyOptions(t.config)));
  } finally {
    await conn.close();
  }
  await publishRaw(`${t.prefix}transcoder.dlq`, ['{"bad":1}', '{"bad":2}']);
  const { doc } = await doctor(['transcoder']);
  const q = byName(doc, `queue ${t.prefix}transcoder`);
  assert.equal(q.status, 'warn');
  assert.match(q.detail, /2 dead letters/);
  assert.match(q.fix ?? '', /transcoder\.dlq/);
});

const broken: [string, string[], Record<string, string>, string, RegExp][] = [
  ['ffmpeg missing', ['transcoder'], { FFMPEG_PATH: '/nonexistent' }, 'ffmpeg', /\/nonexistent not found/],
  ['ffprobe not executable', ['transcoder'], { FFPROBE_PATH: '/etc/hostname' }, 'ffprobe', /\/etc\/hostname/],
  ['database down', ['transcoder'], { DATABASE_URL: 'mysql://root@127.0.0.1:PORT/vigil' }, 'database', /cannot reach 127\.0\.0\.1:\d+\/vigil/],
  ['database missing', ['transcoder'], { DATABASE_URL: 'mysql://root@127.0.0.1:3306/vigil_doctor_nosuchdb' }, 'database', /database vigil_doctor_nosuchdb does not exist/],
  ['broker down', ['transcoder'], { AMQP_URL: 'amqp://guest:guest@127.0.0.1:PORT' }, 'broker', /cannot reach 127\.0\.0\.1:\d+/],
  ['broker refuses the password', ['transcoder'], { AMQP_URL: 'amqp://guest:wrong@127.0.0.1:5672' }, 'broker', /access refused/],
  ['storage down', ['transcoder'], { S3_ENDPOINT: 'http://127.0.0.1:PORT' }, 'storage', /cannot reach http:\/\/127\.0\.0\.1:\d+/],
  ['bucket missing and not creatable', ['transcoder'], { S3_CREATE_BUCKETS: 'false' }, 'bucket unlabeled-images', /missing, and S3_CREATE_BUCKETS is false/],
  ['face backend that does not load', ['facetraining'], { FACE_BACKEND: 'tensorflow' }, 'face engine', /tensorflow/],
  ['configuration invalid', ['transcoder'], { FACE_MATCH_THRESHOLD: 'close', VIGIL_QUEUE_TYPE: 'lazy' }, 'configuration', /must be/],
];

for (const [what, services, extra, name, detail] of broken) {
  test(`${what}: the ${name} check fails with what to do, exit 1`, async (ctx) => {
    if (what === 'face backend that does not load') {
      try {
        createRequire(import.meta.url).resolve('@tensorflow/tfjs-node');
        ctx.diagnostic('tfjs-node is installed here: the tensorflow backend loads, so use a backend name that cannot');
        return;
      } catch {
        // Not installed (its install needs a download this machine cannot make): the case holds.
      }
    }
    const vars = Object.fromEntries(Object.entries(extra).map(([k, v]) => [k, v.replace('PORT', String(closedPort))]));
    const { code, doc } = await doctor(services, vars);
    assert.equal(code, 1);
    assert.equal(doc.ok, false);
    const failed = doc.checks.filter((c) => c.status === 'fail');
    const c = failed.find((x) => x.name === name);
    assert.ok(c, `${name} is among the failures: ${JSON.stringify(failed)}`);
    assert.match(c.detail, detail);
    assert.ok(c.fix && c.fix.length > 0, 'says what to do');
    if (name === 'configuration') assert.deepEqual(failed.map((x) => x.detail.split(' ')[0]), ['VIGIL_QUEUE_TYPE', 'FACE_MATCH_THRESHOLD']);
    else assert.deepEqual(failed.map((x) => x.name), [name], 'nothing else fails');
  });
}

function fakeSmtp(greeting: string): Promise<{ server: Server; port: number; seen: string[] }> {
  const seen: string[] = [];
  const server = createServer((sock) => {
    sock.write(`${greeting}\r\n`);
    sock.on('data', (d: Buffer) => {
      const line = d.toString().trim();
      seen.push(line);
      if (line.startsWith('EHLO')) sock.write('250-mail.test\r\n250-STARTTLS\r\n250 OK\r\n');
      if (line === 'QUIT') sock.end('221 bye\r\n');
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, port: (server.address() as AddressInfo).port, seen })));
}

test('a library on a store of its own is checked there: the uploader fails when that store is down', async () => {
  const { code, doc } = await doctor(['uploader'], {
    LIBRARY_S3_ENDPOINT: `http://127.0.0.1:${closedPort}`, LIBRARY_S3_ACCESS_KEY_ID: 'k', LIBRARY_S3_SECRET_ACCESS_KEY: 's',
  });
  assert.equal(code, 1);
  assert.deepEqual(doc.checks.filter((c) => /bucket/.test(c.name)).map((c) => c.name), ['bucket video-mp4'], 'the main store is not asked for the library bucket');
  const library = byName(doc, 'library storage');
  assert.equal(library.status, 'fail');
  assert.match(library.detail, new RegExp(`cannot reach http://127\\.0\\.0\\.1:${closedPort}`));
  assert.match(library.fix ?? '', /LIBRARY_S3_ENDPOINT/);
  assert.equal(byName(doc, 'storage').status, 'ok');
});

test('SMTP, when set: a relay that answers is ok (nothing sent, no login); one that does not warns for services that do not mail', async () => {
  const smtp = await fakeSmtp('220 mail.test ESMTP');
  try {
    const { doc } = await doctor(['transcoder'], { SMTP_URL: `smtp://user:secret@127.0.0.1:${smtp.port}` });
    const c = byName(doc, 'smtp');
    assert.deepEqual([c.status, c.detail], ['ok', `127.0.0.1:${smtp.port} answers, offers STARTTLS`]);
    assert.deepEqual(smtp.seen, ['EHLO vigil-doctor', 'QUIT']);
  } finally {
    smtp.server.close();
  }
  const { code, doc, stderr } = await doctor(['transcoder'], { SMTP_URL: `smtp://user:secret@127.0.0.1:${closedPort}` });
  assert.equal(code, 0, 'the transcoder does not need SMTP');
  assert.equal(byName(doc, 'smtp').status, 'warn');
  assert.ok(!JSON.stringify(doc).includes('secret') && !stderr.includes('secret'), 'the password never shows');
});

test('an unknown service is refused', async () => {
  const r = await runCli(['doctor', 'nosuch'], env, { timeoutMs: 30_000 });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /unknown service nosuch; available: facetraining, facestreaming, transcoder/);
});

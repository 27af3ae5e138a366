import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import { ensureDatabaseExists } from '../../db/connection.ts';
import { BIN, runCli } from '../helpers/cli.ts';
import { runProcess } from '../helpers/process.ts';
import { createTestEnv, type TestEnv } from '../helpers/test-env.ts';
import { publishRaw, queueDepth, waitFor } from '../helpers/runtime-harness.ts';

const FIXTURE = fileURLToPath(new URL('../fixtures/run-startup.ts', import.meta.url));

let t: TestEnv;
let bare: TestEnv;
before(async () => {
  t = await createTestEnv('startup');
  t.extraQueues.push('busy', 'broken', 'uncaught');
  // A database that exists but was never migrated.
  bare = await createTestEnv('startupbare', {}, { migrate: false });
  await ensureDatabaseExists(bare.config.database.url);
});
after(async () => {
  await t.cleanup();
  await bare.cleanup();
});

const vigilLines = (stderr: string) => stderr.split('\n').filter((l) => l.startsWith('vigil: '));

test('vigil run all without ffmpeg exits 1 within 10 s with one line that says what to do, leaving no process', async () => {
  const r = runProcess([BIN, 'run', 'all'], { ...t.env, FFMPEG_PATH: '/nonexistent', LOG_LEVEL: 'info' }, 30_000);
  const { code, signal, stderr, ms } = await r.exited;
  assert.equal(signal, null, 'it exited by itself');
  assert.equal(code, 1);
  assert.ok(ms < 10_000, `exited after ${ms} ms`);
  assert.deepEqual(vigilLines(stderr), ['vigil: ffmpeg: /nonexistent not found (FFMPEG_PATH) — install ffmpeg (Debian: apt-get install ffmpeg), or set FFMPEG_PATH / FFPROBE_PATH']);
  const fatal = r.logs().find((l) => l.msg === 'cannot start');
  assert.equal(fatal?.check, 'ffmpeg');
  assert.ok(!r.logs().some((l) => l.msg === 'consuming'), 'no consumer started');
});

test('vigil run against a database never migrated refuses to start and says to run vigil migrate', async () => {
  const { code, stderr } = await runCli(['run', 'transcoder'], bare.env, { timeoutMs: 30_000 });
  assert.equal(code, 1);
  assert.deepEqual(vigilLines(stderr), [`vigil: database schema: database ${bare.databaseName} was never migrated — run \`vigil migrate\``]);
});

test('vigil run against a database a migration behind names the missing migration', async () => {
  const db = t.database().db;
  await sql`DELETE FROM kysely_migration WHERE name = '20261121T1200-video-job'`.execute(db);
  try {
    const { code, stderr } = await runCli(['run', 'transcoder'], t.env, { timeoutMs: 30_000 });
    assert.equal(code, 1);
    assert.deepEqual(vigilLines(stderr), [`vigil: database schema: database ${t.databaseName} lacks migration 20261121T1200-video-job — run \`vigil migrate\``]);
  } finally {
    await sql`INSERT INTO kysely_migration (name, timestamp) VALUES ('20261121T1200-video-job', ${new Date().toISOString()})`.execute(db);
  }
});

test('vigil run against a database a newer version migrated refuses to start', async () => {
  const db = t.database().db;
  await sql`INSERT INTO kysely_migration (name, timestamp) VALUES ('20991231T2359-from-the-future', ${new Date().toISOString()})`.execute(db);
  try {
    const { code, stderr } = await runCli(['run', 'transcoder'], t.env, { timeoutMs: 30_000 });
    assert.equal(code, 1);
    const lines = vigilLines(stderr);
    assert.equal(lines.length, 1);
    assert.match(lines[0]!, new RegExp(`^vigil: database schema: database ${t.databaseName} has migrations this version does not know: 20991231T2359-from-the-future — a newer Vigil migrated it`));
  } finally {
    await sql`DELETE FROM kysely_migration WHERE name = '20991231T2359-from-the-future'`.execute(db);
  }
});

test('a metrics port already in use stops the start with one line naming METRICS_PORT', async () => {
  const taken = createServer();
  await new Promise<void>((r) => taken.listen(0, '0.0.0.0', r));
  try {
    const port = (taken.address() as AddressInfo).port;
    const { code, stderr } = await runCli(['run', 'transcoder'], { ...t.env, METRICS_PORT: String(port) }, { timeoutMs: 30_000 });
    assert.equal(code, 1);
    assert.deepEqual(vigilLines(stderr), [`vigil: metrics port: port ${port} is in use — set METRICS_PORT to a free port (0 picks one)`]);
  } finally {
    taken.close();
  }
});

test('a database that does not answer at start is waited for (not ready, logged), and SIGTERM still ends the wait with exit 0', async () => {
  const r = runProcess([BIN, 'run', 'transcoder'], { ...t.env, DATABASE_URL: 'mysql://root@127.0.0.1:1/vigil', LOG_LEVEL: 'info', VIGIL_RECONNECT_MIN: '100ms', VIGIL_RECONNECT_MAX: '200ms' });
  await waitFor('two waits logged', () => r.logs().filter((l) => l.msg === 'waiting for database: not ready').length >= 2, 20_000, 50);
  const port = r.logs().find((l) => l.msg === 'health and metrics server listening')!.port as number;
  assert.equal((await fetch(`http://127.0.0.1:${port}/healthz`)).status, 200);
  const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
  assert.equal(ready.status, 503);
  r.child.kill('SIGTERM');
  const { code } = await r.exited;
  assert.equal(code, 0);
  assert.ok(r.logs().some((l) => l.msg === 'stopped during start'));
});

test('a service whose create throws after another started a worker pool: the pool is closed and the process exits by itself', async () => {
  const r = runProcess([FIXTURE, 'create-throws'], t.env, 30_000);
  const { code, signal } = await r.exited;
  assert.equal(signal, null, 'nothing kept the process alive');
  assert.equal(code, 1);
  assert.ok(r.logs().some((l) => l.msg === 'pool ready'), 'the first service had started its pool');
  assert.match(r.logs().find((l) => l.msg === 'start failed')?.err?.message ?? '', /the second service cannot start/);
});

test('a worker whose module throws at load fails the start with its error instead of respawning forever', async () => {
  const r = runProcess([FIXTURE, 'broken-worker'], t.env, 30_000);
  const { code, signal, ms } = await r.exited;
  assert.equal(signal, null);
  assert.equal(code, 1);
  assert.ok(ms < 15_000, `exited after ${ms} ms`);
  const err = r.logs().find((l) => l.msg === 'start failed')?.err;
  assert.equal(err?.code, 'WORKER_START_FAILED');
  assert.match(err?.message ?? '', /before it was ready: libbroken\.so/);
  assert.ok(r.logs().filter((l) => l.msg === 'worker thread exited; replacing it').length === 0, 'no respawn loop');
});

test('an uncaught exception stops taking messages, requeues the job in flight and exits 70', async () => {
  const r = runProcess([FIXTURE, 'uncaught'], { ...t.env, VIGIL_SHUTDOWN_TIMEOUT: '1s' }, 60_000);
  await waitFor('the consumer', () => r.logs().some((l) => l.msg === 'consuming'), 20_000, 50);
  await publishRaw(`${t.prefix}uncaught`, ['1', '2']);
  const { code, signal } = await r.exited;
  assert.equal(signal, null);
  assert.equal(code, 70);
  const fatal = r.logs().find((l) => l.level === 60);
  assert.match(fatal?.msg ?? '', /^uncaught exception: stopping/);
  assert.equal(fatal?.err?.message, 'a bug thrown from a timer');
  assert.ok(r.logs().some((l) => l.msg === 'stopped'), 'stopped cleanly before exiting');
  // Prefetch 1: the job in flight went back, the other never left the queue.
  await waitFor('both messages back in the queue', async () => (await queueDepth(`${t.prefix}uncaught`)) === 2, 10_000);
});

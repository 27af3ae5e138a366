// A service is whatever `vigil run <name>` starts: queue consumers, scheduled jobs, an HTTP
// app. Each kind gets the same health, readiness, metrics and graceful stop.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import { availableServices, resolveServices } from '../../services/registry.ts';
import { BIN } from '../helpers/cli.ts';
import { runProcess } from '../helpers/process.ts';
import { SmtpTestServer } from '../helpers/smtp-test-server.ts';
import { waitFor } from '../helpers/runtime-harness.ts';
import { createTestEnv, type TestEnv } from '../helpers/test-env.ts';

const FIXTURE = fileURLToPath(new URL('../fixtures/run-with-http-service.ts', import.meta.url));

let t: TestEnv;
let smtp: SmtpTestServer;
before(async () => {
  smtp = await SmtpTestServer.start();
  // Short intervals, so the upkeep's jobs come due within the test.
  t = await createTestEnv('servicekinds', {
    LOG_LEVEL: 'info', SMTP_URL: smtp.url, SMTP_TLS_REJECT_UNAUTHORIZED: 'false',
    NOTIFIER_UPKEEP_TICK: '200ms', NOTIFIER_RESCUE_INTERVAL: '1s', NOTIFIER_SUPERVISORS: 'sup@example.org',
  });
});
after(async () => {
  await t.cleanup();
  await smtp.close();
});

type Proc = ReturnType<typeof runProcess>;
const running = new Set<Proc>();
after(() => {
  for (const p of running) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
});

function start(args: string[]): Proc {
  const p = runProcess(args, t.env, 60_000);
  running.add(p);
  return p;
}

async function healthPort(p: Proc): Promise<number> {
  await waitFor('the health server', () => p.logs().some((l) => l.msg === 'health and metrics server listening'), 30_000, 50);
  return p.logs().find((l) => l.msg === 'health and metrics server listening')!.port as number;
}

async function get(port: number, path: string): Promise<{ status: number; body: string }> {
  const r = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: r.status, body: await r.text() };
}

async function scheduledRuns(): Promise<string[]> {
  const rows = await sql<{ name: string }>`SELECT name FROM scheduled_job`.execute(t.database().db);
  return rows.rows.map((r) => r.name).sort();
}

test('`all` is every registered service, upkeep and notifier included; a queue is not a service name', () => {
  const all = resolveServices(['all']);
  assert.deepEqual(all, availableServices());
  for (const s of ['facetraining', 'facestreaming', 'transcoder', 'uploader', 'notifier', 'upkeep']) assert.ok(all.includes(s), s);
  assert.throws(() => resolveServices(['notifier.dlq']), /unknown service notifier\.dlq/);
});

test('an HTTP app with no queue, added through the registry, gets health, readiness, metrics and a clean SIGTERM', async () => {
  const p = start([FIXTURE, 'run', 'hello']);
  const port = await healthPort(p);
  assert.equal((await get(port, '/healthz')).status, 200);
  await waitFor('the hello app to listen', () => p.logs().some((l) => l.msg === 'hello listening'), 30_000, 50);
  const helloPort = p.logs().find((l) => l.msg === 'hello listening')!.helloPort as number;
  assert.equal((await get(helloPort, '/')).body, 'hello\n');

  await waitFor('/readyz to say ready', async () => (await get(port, '/readyz')).status === 200, 20_000, 100);
  const ready = JSON.parse((await get(port, '/readyz')).body);
  assert.deepEqual(ready.checks, { broker: true, database: true, consumers: true, services: true });

  const metrics = (await get(port, '/metrics')).body;
  assert.match(metrics, /^hello_requests_total 1$/m, 'its own metric, on the shared registry');
  assert.match(metrics, /^process_cpu_seconds_total /m, 'the default process metrics');
  assert.match(metrics, /^# TYPE vigil_in_flight gauge$/m, "the contract's metrics");

  p.child.kill('SIGTERM');
  const { code, signal } = await p.exited;
  assert.deepEqual({ code, signal }, { code: 0, signal: null });
  const msgs = p.logs().map((l) => l.msg);
  assert.ok(msgs.indexOf('hello closed') > msgs.indexOf('stopping: finishing in-flight messages'), 'closed during the graceful stop');
  assert.ok(msgs.includes('stopped'));
  await assert.rejects(fetch(`http://127.0.0.1:${helloPort}/`), 'the app no longer listens');
});

test('vigil run upkeep runs the scheduled jobs with no queue of its own; vigil run notifier no longer does', async () => {
  const notifier = start([BIN, 'run', 'notifier']);
  const notifierPort = await healthPort(notifier);
  await waitFor('the notifier to be ready', async () => (await get(notifierPort, '/readyz')).status === 200, 30_000, 100);
  // Ten of its ticks, had it kept the scheduler.
  await new Promise((r) => setTimeout(r, 2_000));
  assert.deepEqual(await scheduledRuns(), [], 'the notifier ran no scheduled job');
  notifier.child.kill('SIGTERM');
  assert.equal((await notifier.exited).code, 0);

  const upkeep = start([BIN, 'run', 'upkeep']);
  const port = await healthPort(upkeep);
  await waitFor('/readyz to say ready', async () => (await get(port, '/readyz')).status === 200, 30_000, 100);
  await waitFor('the scheduled jobs to run', async () => (await scheduledRuns()).length >= 3, 20_000, 200);
  const names = await scheduledRuns();
  for (const job of ['orphan_rescue', 'work_pending', 'dead_letters']) assert.ok(names.includes(job), `${job} ran: ${names.join(', ')}`);
  assert.ok(!upkeep.logs().some((l) => l.msg === 'consuming'), 'it consumes no queue');
  upkeep.child.kill('SIGTERM');
  const { code, signal } = await upkeep.exited;
  assert.deepEqual({ code, signal }, { code: 0, signal: null });
});

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createTestEnv, type TestEnv } from '../helpers/test-env.ts';
import { ledgerCounts, publishRaw, queueDepth, waitFor } from '../helpers/runtime-harness.ts';
import { asLedger, createLedgerTables, insertJobs } from '../fixtures/ledger-service.ts';

const FIXTURE = fileURLToPath(new URL('../fixtures/run-ledger.ts', import.meta.url));

let t: TestEnv;
before(async () => {
  t = await createTestEnv('shutdown');
  t.extraQueues.push('ledger');
  await createLedgerTables(t.database().db);
});
after(() => t.cleanup());

interface ServiceProcess {
  child: ChildProcess;
  logs: Record<string, any>[];
  exited: Promise<{ code: number | null; signal: string | null }>;
}

function startService(env: Record<string, string>, concurrency: number, workMs: number): ServiceProcess {
  const child = spawn(process.execPath, [FIXTURE, String(concurrency), String(workMs)], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const logs: Record<string, any>[] = [];
  let buf = '';
  child.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    const parts = buf.split('\n');
    buf = parts.pop()!;
    for (const p of parts) if (p.trim()) logs.push(JSON.parse(p));
  });
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  children.add(child);
  return { child, logs, exited };
}

// A failed assertion must not leave a service process behind (it would keep the run alive).
const children = new Set<ChildProcess>();
after(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

async function consuming(svc: ServiceProcess): Promise<void> {
  await waitFor('the service to consume', () => svc.logs.some((l) => l.msg === 'consuming'), 20_000, 50);
}

async function started(db: TestEnv, ids: number[]): Promise<number> {
  const rows = await asLedger(db.database().db).selectFrom('ledger_job').select('attempts_seen').where('id', 'in', ids).execute();
  return rows.filter((r) => r.attempts_seen !== '').length;
}

async function effectsOf(ids: number[]): Promise<number[]> {
  const { effects } = await ledgerCounts(t.database().db);
  return ids.map((id) => effects.get(id) ?? 0);
}

test('SIGTERM with jobs in flight: they finish within the deadline, the rest stay queued, exit 0', async () => {
  const ids = Array.from({ length: 12 }, (_, i) => 100 + i);
  await insertJobs(t.database().db, ids);
  const svc = startService({ ...t.env, LOG_LEVEL: 'info', VIGIL_SHUTDOWN_TIMEOUT: '10s' }, 4, 1500);
  await consuming(svc);
  await publishRaw(`${t.prefix}ledger`, ids.map(String));
  await waitFor('four jobs in flight', async () => (await started(t, ids)) === 4, 20_000, 50);
  const signalled = Date.now();
  svc.child.kill('SIGTERM');
  const { code } = await svc.exited;
  assert.equal(code, 0, 'exit 0');
  assert.ok(Date.now() - signalled < 8_000, 'did not wait for the deadline');
  const effects = await effectsOf(ids);
  assert.equal(effects.filter((n) => n === 2).length, 4, 'the four in flight finished');
  assert.deepEqual(effects.filter((n) => n !== 0 && n !== 2), [], 'nothing half-written');
  assert.equal(await started(t, ids), 4, 'no new message was taken after SIGTERM');
  assert.equal(await queueDepth(`${t.prefix}ledger`), 8, 'the rest wait in the queue');
  assert.ok(svc.logs.some((l) => l.msg === 'stopped'));

  const again = startService({ ...t.env, VIGIL_SHUTDOWN_TIMEOUT: '10s' }, 4, 10);
  await waitFor('the rest done', async () => (await effectsOf(ids)).every((n) => n === 2), 30_000, 100);
  again.child.kill('SIGTERM');
  assert.equal((await again.exited).code, 0);
});

test('SIGTERM past the deadline: in-flight jobs are aborted and requeued, none half-written, all done by the next process', async () => {
  const ids = Array.from({ length: 12 }, (_, i) => 200 + i);
  await insertJobs(t.database().db, ids);
  const svc = startService({ ...t.env, VIGIL_SHUTDOWN_TIMEOUT: '500ms' }, 4, 8000);
  await consuming(svc);
  await publishRaw(`${t.prefix}ledger`, ids.map(String));
  await waitFor('four jobs in flight', async () => (await started(t, ids)) === 4, 20_000, 50);
  const signalled = Date.now();
  svc.child.kill('SIGTERM');
  const { code } = await svc.exited;
  assert.equal(code, 0, 'exit 0');
  assert.ok(Date.now() - signalled < 6_000, `stopped soon after the deadline (${Date.now() - signalled} ms)`);
  assert.deepEqual(await effectsOf(ids), ids.map(() => 0), 'nothing written, nothing half-written');
  assert.equal(await queueDepth(`${t.prefix}ledger`), 12, 'every message is back in the queue');
  assert.ok(svc.logs.some((l) => l.msg === 'message requeued'), 'requeues are logged');

  const again = startService({ ...t.env, VIGIL_SHUTDOWN_TIMEOUT: '10s' }, 4, 10);
  await waitFor('all done', async () => (await effectsOf(ids)).every((n) => n === 2), 30_000, 100);
  again.child.kill('SIGINT');
  assert.equal((await again.exited).code, 0);
  assert.equal(await queueDepth(`${t.prefix}ledger`), 0);
});

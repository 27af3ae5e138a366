import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'kysely';
import { openDatabase, type DatabaseHandle } from '../../db/connection.ts';
import { createLockManager, lockName, LockTimeoutError, type LockManager } from '../../shared/lock.ts';
import { createTestEnv, type TestEnv } from '../helpers/test-env.ts';

let t: TestEnv;
let lockDb: DatabaseHandle;
let locks: LockManager;
const namespace = `locktest-${process.pid}-${Date.now()}`;

before(async () => {
  t = await createTestEnv('lock', {}, { migrate: false });
  await import('../../db/connection.ts').then((m) => m.ensureDatabaseExists(t.config.database.url));
  lockDb = openDatabase(t.config.database.url, { poolSize: 8 });
  locks = createLockManager({ db: lockDb.db, namespace, heartbeatMs: 200 });
});
after(async () => {
  await lockDb.close();
  await t.cleanup();
});

type Span = { name: string; start: number; end: number };
const overlaps = (a: Span, b: Span) => a.start < b.end && b.start < a.end;

async function hold(key: string, name: string, ms: number, spans: Span[]): Promise<void> {
  await locks.withLock(key, async () => {
    const start = performance.now();
    await sleep(ms);
    spans.push({ name, start, end: performance.now() });
  });
}

test('two holders of one key run one after the other', async () => {
  const spans: Span[] = [];
  await Promise.all([hold('NA\\ada', 'a', 400, spans), hold('NA\\ada', 'b', 400, spans), hold('NA\\ada', 'c', 400, spans)]);
  assert.equal(spans.length, 3);
  for (let i = 0; i < spans.length; i++) {
    for (let j = i + 1; j < spans.length; j++) assert.ok(!overlaps(spans[i]!, spans[j]!), `${spans[i]!.name} and ${spans[j]!.name} did not overlap`);
  }
});

test('holders of different keys run together', async () => {
  const spans: Span[] = [];
  await Promise.all([hold('NA\\ada', 'a', 600, spans), hold('NA\\bob', 'b', 600, spans)]);
  assert.ok(overlaps(spans[0]!, spans[1]!), 'different keys overlapped');
});

test('the function result and errors pass through, and the lock is released after an error', async () => {
  assert.equal(await locks.withLock('k1', async () => 42), 42);
  await assert.rejects(locks.withLock('k1', async () => {
    throw new Error('boom');
  }), /boom/);
  assert.equal(await locks.withLock('k1', async () => 'again', { timeoutMs: 1000 }), 'again');
});

test('a waiter gives up after its timeout with a transient LOCK_TIMEOUT', async () => {
  let release!: () => void;
  const held = locks.withLock('busy', () => new Promise<void>((r) => (release = r)));
  await sleep(100);
  await assert.rejects(locks.withLock('busy', async () => 'never', { timeoutMs: 1000 }), (err: unknown) => {
    assert.ok(err instanceof LockTimeoutError);
    assert.equal(err.code, 'LOCK_TIMEOUT');
    assert.equal(err.permanent, false);
    return true;
  });
  release();
  await held;
});

test("a holder whose connection drops frees the key, and its signal says it lost the lock", async () => {
  const admin = lockDb.db;
  let lostSignal: AbortSignal | undefined;
  let releaseA!: () => void;
  const a = locks.withLock('dropme', (signal) => {
    lostSignal = signal;
    return new Promise<void>((r) => (releaseA = r));
  }).catch(() => undefined);
  await sleep(150);
  const holder = await sql<{ id: number | null }>`SELECT IS_USED_LOCK(${lockName(namespace, 'dropme')}) AS id`.execute(admin);
  const connId = Number(holder.rows[0]?.id);
  assert.ok(connId > 0, 'the lock is held');
  const waiter = locks.withLock('dropme', async () => 'b ran', { timeoutMs: 10_000 });
  await sleep(200);
  await sql`KILL CONNECTION ${sql.raw(String(connId))}`.execute(admin);
  assert.equal(await waiter, 'b ran');
  // The heartbeat notices within a few of its periods.
  for (let i = 0; i < 50 && !lostSignal?.aborted; i++) await sleep(100);
  assert.equal(lostSignal?.aborted, true);
  assert.equal((lostSignal?.reason as { code?: string }).code, 'LOCK_LOST');
  releaseA();
  await a;
});

test('a holder process that is killed frees the key', async () => {
  const script = `
    import { openDatabase } from './db/connection.ts';
    import { createLockManager } from './shared/lock.ts';
    const h = openDatabase(${JSON.stringify(t.config.database.url)}, { poolSize: 2 });
    const locks = createLockManager({ db: h.db, namespace: ${JSON.stringify(namespace)} });
    await locks.withLock('crashy', async () => { console.log('held'); await new Promise(() => {}); });
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => d.toString().includes('held') && resolve());
    child.on('exit', () => reject(new Error('child exited before holding the lock')));
  });
  await assert.rejects(locks.withLock('crashy', async () => 'x', { timeoutMs: 1000 }), LockTimeoutError);
  child.kill('SIGKILL');
  assert.equal(await locks.withLock('crashy', async () => 'after crash', { timeoutMs: 10_000 }), 'after crash');
});

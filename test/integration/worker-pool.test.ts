import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../../services/config.ts';
import { createLogger } from '../../shared/logger.ts';
import { VigilError } from '../../shared/errors.ts';
import { WorkerPool } from '../../shared/runtime/worker-pool.ts';
import { createTestEnv, type TestEnv } from '../helpers/test-env.ts';
import { captureLogger, ledgerCounts, publishRaw, startApp, waitFor } from '../helpers/runtime-harness.ts';
import { createLedgerTables, insertJobs, ledgerService } from '../fixtures/ledger-service.ts';
import type { BusyTask } from '../fixtures/busy-worker.ts';
import { spin } from '../fixtures/spin.ts';

const ENTRY = new URL('../fixtures/busy-worker.ts', import.meta.url);
const logger = createLogger({ level: 'silent' });

test('tasks run on separate threads in parallel', async () => {
  const pool = new WorkerPool<BusyTask, { threadId: number }>({ entry: ENTRY, size: 2, name: 'busy', logger });
  try {
    await pool.ready();
    const t0 = performance.now();
    const results = await Promise.all([pool.run({ op: 'spin', ms: 400 }), pool.run({ op: 'spin', ms: 400 })]);
    const elapsed = performance.now() - t0;
    assert.notEqual(results[0]!.threadId, results[1]!.threadId);
    assert.ok(elapsed < 750, `two 400 ms tasks took ${Math.round(elapsed)} ms, so they ran together`);
  } finally {
    await pool.close();
  }
});

test('an error keeps its code and permanence across the thread boundary', async () => {
  const pool = new WorkerPool<BusyTask, unknown>({ entry: ENTRY, size: 1, name: 'busy', logger });
  try {
    await assert.rejects(pool.run({ op: 'fail' }), (err: unknown) => {
      assert.ok(err instanceof VigilError);
      assert.equal(err.code, 'CORRUPT_INPUT');
      assert.equal(err.permanent, true);
      return true;
    });
  } finally {
    await pool.close();
  }
});

test('a thread that dies fails its task as transient and is replaced', async () => {
  const pool = new WorkerPool<BusyTask, { threadId: number }>({ entry: ENTRY, size: 1, name: 'busy', logger });
  try {
    await assert.rejects(pool.run({ op: 'die' }), (err: unknown) => err instanceof VigilError && err.code === 'WORKER_EXITED' && !err.permanent);
    const r = await pool.run({ op: 'spin', ms: 10 });
    assert.ok(r.threadId > 0);
  } finally {
    await pool.close();
  }
});

test('a worker that throws at load fails ready() with its error, and is not respawned', { timeout: 30_000 }, async () => {
  const { logger: log, lines } = captureLogger('warn');
  const pool = new WorkerPool<BusyTask, unknown>({ entry: new URL('../fixtures/broken-worker.ts', import.meta.url), size: 2, name: 'broken', logger: log });
  try {
    const t0 = performance.now();
    await assert.rejects(pool.ready(), (err: unknown) => {
      assert.ok(err instanceof VigilError);
      assert.equal(err.code, 'WORKER_START_FAILED');
      assert.match(err.message, /broken worker exited with code 1 before it was ready: libbroken\.so: cannot open shared object file/);
      return true;
    });
    assert.ok(performance.now() - t0 < 10_000, 'ready() settled');
    await assert.rejects(pool.run({ op: 'spin', ms: 1 }), /before it was ready/);
    // Once both threads are gone a task is refused at once, not queued for no thread (it hung CI).
    await waitFor('both threads failed', () => lines.filter((l) => l.msg === 'worker thread failed').length === 2, 10_000);
    await new Promise((r) => setTimeout(r, 200));
    await assert.rejects(pool.run({ op: 'spin', ms: 1 }), /before it was ready/);
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(lines.filter((l) => l.msg === 'worker thread exited; replacing it').length, 0, 'no respawn loop');
  } finally {
    await pool.close();
  }
});

test('a closed pool refuses work', async () => {
  const pool = new WorkerPool<BusyTask, unknown>({ entry: ENTRY, size: 1, name: 'busy', logger });
  await pool.close();
  await assert.rejects(pool.run({ op: 'spin', ms: 1 }), /closed/);
});

let t: TestEnv;
before(async () => {
  t = await createTestEnv('heartbeat', { VIGIL_HEARTBEAT_SECONDS: '1' });
  t.extraQueues.push('ledger');
  await createLedgerTables(t.database().db);
});
after(() => t.cleanup());

async function runHeavyJob(id: number, compute: () => Promise<void>): Promise<number> {
  const { logger: log } = captureLogger('silent');
  const running = await startApp(loadConfig(t.env), [ledgerService({ queue: 'ledger', concurrency: 1, compute })], log);
  try {
    await waitFor('attach', () => running.consumers[0]!.attached, 10_000);
    const before = running.app.broker.connectionGeneration;
    await insertJobs(t.database().db, [id]);
    await publishRaw(`${t.prefix}ledger`, [String(id)]);
    await waitFor('the job', async () => (await ledgerCounts(t.database().db)).effects.get(id) === 2, 30_000);
    // Give a lost connection time to be noticed before reading the generation.
    await new Promise((r) => setTimeout(r, 1500));
    return running.app.broker.connectionGeneration - before;
  } finally {
    await running.stop();
  }
}

test('6 s of CPU work in the pool keeps the 1 s heartbeat going; the same work on the event loop loses the connection', async () => {
  const pool = new WorkerPool<BusyTask, unknown>({ entry: ENTRY, size: 1, name: 'busy', logger });
  try {
    await pool.ready();
    const reconnectsWithPool = await runHeavyJob(1, async () => {
      await pool.run({ op: 'spin', ms: 6000 });
    });
    assert.equal(reconnectsWithPool, 0, 'no reconnect while the pool worked');
  } finally {
    await pool.close();
  }
  const reconnectsOnLoop = await runHeavyJob(2, async () => {
    spin(6000);
  });
  assert.ok(reconnectsOnLoop >= 1, 'blocking the event loop misses heartbeats and loses the connection');
});

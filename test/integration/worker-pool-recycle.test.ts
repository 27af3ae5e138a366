// The pool's replacement of a thread once idle (recycleIdle). The face engine used to be how
// the tests reached it (a burst of large images grew the wasm heap); its inputs no longer
// grow the heap (face-memory.test.ts), so the mechanism is checked here on its own.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WorkerPool } from '../../shared/runtime/worker-pool.ts';
import type { BusyTask } from '../fixtures/busy-worker.ts';
import { captureLogger, waitFor } from '../helpers/runtime-harness.ts';

const ENTRY = new URL('../fixtures/busy-worker.ts', import.meta.url);
const REPLACED = 'worker thread replaced to give back the memory a large input grew';

test('a thread whose output asks for it is replaced once idle, and the next task runs on the fresh one', async () => {
  const { logger, lines } = captureLogger('info');
  const pool = new WorkerPool<BusyTask, { threadId: number }>({ entry: ENTRY, size: 1, name: 'busy', logger, recycleIdle: { idleMs: 150, when: () => true } });
  try {
    const first = await pool.run({ op: 'spin', ms: 10 });
    await waitFor('the thread replaced', () => lines.some((l) => l.msg === REPLACED), 10_000, 20);
    const next = await pool.run({ op: 'spin', ms: 10 });
    assert.notEqual(next.threadId, first.threadId);
  } finally {
    await pool.close();
  }
});

test('a busy thread is never replaced, and an output that does not ask for it arms nothing', async () => {
  const { logger, lines } = captureLogger('info');
  let asks = true;
  const pool = new WorkerPool<BusyTask, { threadId: number }>({ entry: ENTRY, size: 1, name: 'busy', logger, recycleIdle: { idleMs: 300, when: () => asks } });
  try {
    const ids = new Set<number>();
    // Back to back, each task shorter than the idle time: the thread is never idle long enough.
    for (let i = 0; i < 8; i++) ids.add((await pool.run({ op: 'spin', ms: 100 })).threadId);
    asks = false;
    ids.add((await pool.run({ op: 'spin', ms: 10 })).threadId);
    await new Promise((r) => setTimeout(r, 600));
    ids.add((await pool.run({ op: 'spin', ms: 10 })).threadId);
    assert.equal(ids.size, 1);
    assert.equal(lines.filter((l) => l.msg === REPLACED).length, 0);
  } finally {
    await pool.close();
  }
});

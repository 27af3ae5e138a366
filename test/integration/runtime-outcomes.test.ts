import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'amqplib';
import { loadConfig } from '../../services/config.ts';
import type { RunningApp } from '../../shared/app/run-services.ts';
import { createTestEnv, AMQP_URL, type TestEnv } from '../helpers/test-env.ts';
import { captureLogger, drainQueue, ledgerCounts, metricValue, publishRaw, queueDepth, startApp, waitFor } from '../helpers/runtime-harness.ts';
import { asLedger, createLedgerTables, insertJobs, ledgerService } from '../fixtures/ledger-service.ts';

let t: TestEnv;
let running: RunningApp;
let lines: Record<string, any>[];
const labels = { service: 'ledger', queue: 'ledger' };

before(async () => {
  t = await createTestEnv('outcomes', { VIGIL_RETRY_DELAYS: '200ms,400ms', VIGIL_MAX_ATTEMPTS: '3' });
  t.extraQueues.push('ledger');
  await createLedgerTables(t.database().db);
  const captured = captureLogger();
  lines = captured.lines;
  running = await startApp(loadConfig(t.env), [ledgerService({ queue: 'ledger', concurrency: 4 })], captured.logger);
  await waitFor('the consumer to attach', () => running.consumers[0]!.attached, 10_000);
});
after(async () => {
  await running.stop();
  await t.cleanup();
});

const POISON: [name: string, body: Buffer][] = [
  ['empty', Buffer.alloc(0)],
  ['non-numeric', Buffer.from('abc')],
  ['huge', Buffer.alloc(300 * 1024, '1')],
  ['invalid JSON', Buffer.from('{"id":')],
  ['wrong shape', Buffer.from('{"name":"ada"}')],
  ['negative id', Buffer.from('{"id":-5}')],
  ['fractional id', Buffer.from('1.5')],
  ['not UTF-8', Buffer.from([0xff, 0xfe, 0x31])],
];

test('poison bodies are dead-lettered with a clear reason and log line, and the consumer keeps going', async () => {
  await insertJobs(t.database().db, [1001]);
  await publishRaw(`${t.prefix}ledger`, [...POISON.map(([, b]) => b), Buffer.from('1001')]);
  await waitFor('the good message after the poison', async () => (await ledgerCounts(t.database().db)).done === 1, 10_000);
  await waitFor('the poison in the DLQ', async () => (await queueDepth(`${t.prefix}ledger.dlq`)) === POISON.length, 10_000);

  const dead = await drainQueue(`${t.prefix}ledger.dlq`);
  assert.equal(dead.length, POISON.length);
  for (const d of dead) {
    assert.equal(d.headers['x-vigil-error-code'], 'BAD_MESSAGE');
    assert.match(String(d.headers['x-vigil-error']), /^BAD_MESSAGE: \w/);
    assert.equal(d.headers['x-vigil-queue'], `${t.prefix}ledger`);
    assert.equal(d.headers['x-vigil-service'], 'ledger');
  }
  const reasons = dead.map((d) => String(d.headers['x-vigil-error']));
  assert.ok(reasons.some((r) => r.includes('empty body')));
  assert.ok(reasons.some((r) => r.includes('exceeds the 1024-byte limit')));
  assert.ok(reasons.some((r) => r.includes('not valid UTF-8')));
  assert.ok(reasons.some((r) => r.includes('wrong shape')));
  // The huge body is kept whole in the DLQ, for whoever inspects it.
  assert.ok(dead.some((d) => d.body.length === 300 * 1024));

  const logged = lines.filter((l) => l.msg === 'message dead-lettered');
  assert.equal(logged.length, POISON.length);
  for (const l of logged) {
    assert.equal(l.queue, `${t.prefix}ledger`);
    assert.equal(l.outcome, 'dead_lettered');
    assert.equal(l.err.code, 'BAD_MESSAGE');
    assert.equal(typeof l.durationMs, 'number');
  }
  assert.equal(await metricValue(running.app.metrics, 'vigil_dead_lettered_total', labels), POISON.length);
});

test('an unknown id is a permanent failure: dead-lettered at once, never retried', async () => {
  const before = await metricValue(running.app.metrics, 'vigil_retries_total', labels);
  await publishRaw(`${t.prefix}ledger`, ['{"id":424242}']);
  await waitFor('the DLQ', async () => (await queueDepth(`${t.prefix}ledger.dlq`)) === 1, 10_000);
  const [d] = await drainQueue(`${t.prefix}ledger.dlq`);
  assert.equal(d!.headers['x-vigil-error-code'], 'UNKNOWN_ID');
  assert.equal(d!.headers['x-vigil-attempt'], 1);
  assert.equal(await metricValue(running.app.metrics, 'vigil_retries_total', labels), before);
});

test('a rejection the handler recorded is acked, not dead-lettered', async () => {
  await insertJobs(t.database().db, [2001], 'reject');
  await publishRaw(`${t.prefix}ledger`, ['2001']);
  await waitFor('the rejection', async () => (await metricValue(running.app.metrics, 'vigil_messages_total', { ...labels, outcome: 'rejected' })) === 1, 10_000);
  const row = await asLedger(t.database().db).selectFrom('ledger_job').select('status').where('id', '=', 2001).executeTakeFirstOrThrow();
  assert.equal(row.status, 'F');
  assert.equal(await queueDepth(`${t.prefix}ledger.dlq`), 0);
  assert.equal(await queueDepth(`${t.prefix}ledger`), 0);
});

test('a transient failure is retried with back-off up to the attempt limit, counted in Vigil\'s header, then dead-lettered', async () => {
  const retriesBefore = await metricValue(running.app.metrics, 'vigil_retries_total', labels);
  await insertJobs(t.database().db, [3001], 'flaky');
  await publishRaw(`${t.prefix}ledger`, ['3001'], { messageId: () => 'flaky-1' });
  await waitFor('the DLQ', async () => (await queueDepth(`${t.prefix}ledger.dlq`)) === 1, 15_000);
  const [d] = await drainQueue(`${t.prefix}ledger.dlq`);
  assert.equal(d!.headers['x-vigil-error-code'], 'FLAKY');
  assert.equal(d!.headers['x-vigil-attempt'], 3);
  assert.equal(d!.headers['x-death'], undefined, "the broker's x-death bookkeeping is not carried along");
  const row = await asLedger(t.database().db).selectFrom('ledger_job').select('attempts_seen').where('id', '=', 3001).executeTakeFirstOrThrow();
  assert.equal(row.attempts_seen, '1,2,3,');
  assert.equal((await metricValue(running.app.metrics, 'vigil_retries_total', labels)) - retriesBefore, 2);
  // Both back-off queues exist and are empty again.
  assert.equal(await queueDepth(`${t.prefix}ledger.retry.200ms`), 0);
  assert.equal(await queueDepth(`${t.prefix}ledger.retry.400ms`), 0);
});

test("a producer's own x-vigil-attempt (and a forged x-death) cannot skip the retries: the count starts at 1", async () => {
  await insertJobs(t.database().db, [3101], 'flaky');
  const dlqBefore = await queueDepth(`${t.prefix}ledger.dlq`);
  await publishRaw(`${t.prefix}ledger`, ['3101'], { headers: { 'x-vigil-attempt': 3, 'x-death': [{ queue: `${t.prefix}elsewhere`, reason: 'expired', count: 1 }] } });
  await waitFor('the DLQ', async () => (await queueDepth(`${t.prefix}ledger.dlq`)) === dlqBefore + 1, 15_000);
  const row = await asLedger(t.database().db).selectFrom('ledger_job').select('attempts_seen').where('id', '=', 3101).executeTakeFirstOrThrow();
  assert.equal(row.attempts_seen, '1,2,3,', 'all three attempts ran');
  const dead = (await drainQueue(`${t.prefix}ledger.dlq`)).at(-1)!;
  assert.equal(dead.headers['x-vigil-attempt'], 3);
});

test('a redelivered id whose row is already processed is acked without doing the work again', async () => {
  await insertJobs(t.database().db, [4001]);
  await publishRaw(`${t.prefix}ledger`, ['4001', '{"id":4001}', '4001']);
  await waitFor('three outcomes', async () => (await metricValue(running.app.metrics, 'vigil_messages_total', { ...labels, outcome: 'duplicate' })) >= 2, 10_000);
  const { effects } = await ledgerCounts(t.database().db);
  assert.equal(effects.get(4001), 2, 'one side effect (two rows)');
});

test('a consumer cancelled by the broker (its queue deleted) re-subscribes and keeps consuming', async () => {
  const conn = await connect(AMQP_URL);
  const ch = await conn.createChannel();
  await ch.deleteQueue(`${t.prefix}ledger`);
  await conn.close();
  await waitFor('the re-subscription', async () => {
    try {
      return running.consumers[0]!.attached && (await queueDepth(`${t.prefix}ledger`)) === 0;
    } catch {
      return false;
    }
  }, 10_000);
  assert.ok(lines.some((l) => l.msg === 'consumer cancelled by the broker; resubscribing'));
  await insertJobs(t.database().db, [5001]);
  await publishRaw(`${t.prefix}ledger`, ['5001']);
  await waitFor('the job after re-subscribing', async () => (await ledgerCounts(t.database().db)).effects.get(5001) === 2, 10_000);
});

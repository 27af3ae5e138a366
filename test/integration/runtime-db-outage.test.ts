import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadConfig } from '../../services/config.ts';
import { createTestEnv, MYSQL_SERVER, type TestEnv } from '../helpers/test-env.ts';
import { TcpProxy } from '../helpers/tcp-proxy.ts';
import { captureLogger, drainQueue, ledgerCounts, metricValue, publishRaw, queueDepth, startApp, waitFor } from '../helpers/runtime-harness.ts';
import { asLedger, createLedgerTables, insertJobs, ledgerService } from '../fixtures/ledger-service.ts';

let t: TestEnv;
let dbProxy: TcpProxy;
before(async () => {
  t = await createTestEnv('dbdown');
  t.extraQueues.push('ledger');
  await createLedgerTables(t.database().db);
  dbProxy = await TcpProxy.start(3306);
});
after(async () => {
  await dbProxy.close();
  await t.cleanup();
});

test('database unreachable for 20 s: messages retried with back-off, all processed after it returns, none dead-lettered', async () => {
  const N = 200;
  const ids = Array.from({ length: N }, (_, i) => i + 1);
  const db = t.database().db; // direct, for the test's own checks
  await insertJobs(db, ids);
  // The service reaches the database only through the proxy. Default back-off (5 s, 30 s,
  // 2 min, 10 min) and attempts (6): an outage of 20 s is well within the retry budget.
  const config = loadConfig({ ...t.env, DATABASE_URL: `${dbProxy.url(MYSQL_SERVER)}/${t.databaseName}` });
  assert.deepEqual(config.broker.retryDelaysMs, [5000, 30000, 120000, 600000]);
  const { logger, lines } = captureLogger();
  const running = await startApp(config, [ledgerService({ queue: 'ledger', concurrency: 4, workMs: 20 })], logger);
  const metrics = running.app.metrics;
  const labels = { service: 'ledger', queue: 'ledger' };
  try {
    await waitFor('the consumer to attach', () => running.consumers[0]!.attached, 10_000);
    await publishRaw(`${t.prefix}ledger`, ids.map(String));
    await waitFor('some jobs done', async () => (await ledgerCounts(db)).done >= 20, 30_000, 20);

    dbProxy.block();
    const outageStart = Date.now();
    assert.equal(await running.app.database.ping(), false, 'the service cannot reach the database');
    await sleep(20_000);
    dbProxy.unblock();
    const retriedDuringOutage = await metricValue(metrics, 'vigil_retries_total', labels);
    assert.ok(retriedDuringOutage > 0, 'messages were sent to the retry queues');

    await waitFor('all jobs done', async () => (await ledgerCounts(db)).done === N, 90_000, 500);
    const elapsed = Date.now() - outageStart;
    await waitFor('in-flight to settle', () => running.consumers[0]!.inFlightCount === 0, 10_000);

    const { effects } = await ledgerCounts(db);
    assert.equal(effects.size, N);
    assert.deepEqual([...effects].filter(([, n]) => n !== 2), [], 'each side effect exactly once');
    assert.equal(await metricValue(metrics, 'vigil_dead_lettered_total', labels), 0, 'none dead-lettered');
    assert.equal(await queueDepth(`${t.prefix}ledger.dlq`), 0);
    // A commit the outage cut after the server took it is retried and then found done: a
    // duplicate, never a second effect (checked above). At most one per job in flight.
    const done = await metricValue(metrics, 'vigil_messages_total', { ...labels, outcome: 'done' });
    const duplicates = await metricValue(metrics, 'vigil_messages_total', { ...labels, outcome: 'duplicate' });
    assert.equal(done + duplicates, N);
    assert.ok(duplicates <= 4, `${duplicates} duplicates: more than the 4 jobs in flight when the outage began`);

    // Back-off, not a hot loop: a message fails at most once per retry step during 20 s
    // (first try, after 5 s, after 30 s), so attempt numbers stay small.
    const rows = await asLedger(db).selectFrom('ledger_job').select(['attempts_seen']).execute();
    const maxAttempt = Math.max(...rows.map((r) => Math.max(...String(r.attempts_seen).split(',').filter(Boolean).map(Number))));
    assert.ok(maxAttempt >= 2 && maxAttempt <= 3, `attempts counted in Vigil's header (max ${maxAttempt})`);
    assert.ok(elapsed >= 25_000, `the retry after the outage waited for its back-off (${elapsed} ms)`);
    assert.ok(lines.some((l) => l.msg === 'message retried' && l.attempt === 1 && l.err), 'each retry is logged with its error');
    assert.deepEqual(await drainQueue(`${t.prefix}ledger.dlq`), []);
  } finally {
    await running.stop();
  }
});

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../../services/config.ts';
import { createTestEnv, type TestEnv } from '../helpers/test-env.ts';
import { TcpProxy } from '../helpers/tcp-proxy.ts';
import { captureLogger, ledgerCounts, metricValue, publishRaw, queueDepth, startApp, waitFor } from '../helpers/runtime-harness.ts';
import { createLedgerTables, insertJobs, ledgerService } from '../fixtures/ledger-service.ts';

let t: TestEnv;
let proxy: TcpProxy;
before(async () => {
  t = await createTestEnv('cuts');
  t.extraQueues.push('ledger');
  await createLedgerTables(t.database().db);
  proxy = await TcpProxy.start(5672);
});
after(async () => {
  await proxy.close();
  await t.cleanup();
});

test('1,000 messages with the broker connection cut three times mid-flight: each handled, its side effect written once', async () => {
  const N = 1000;
  const ids = Array.from({ length: N }, (_, i) => i + 1);
  const db = t.database().db;
  await insertJobs(db, ids);
  const config = loadConfig({ ...t.env, AMQP_URL: proxy.url(t.env.AMQP_URL!), VIGIL_RECONNECT_MIN: '100ms', VIGIL_RECONNECT_MAX: '1s' });
  const { logger, lines } = captureLogger();
  const running = await startApp(config, [ledgerService({ queue: 'ledger', concurrency: 16, workMs: 15 })], logger);
  const metrics = running.app.metrics;
  try {
    await waitFor('the consumer to attach', () => running.consumers[0]!.attached, 10_000);
    await publishRaw(`${t.prefix}ledger`, ids.map(String), { messageId: (i) => `m-${i + 1}` });

    for (const threshold of [150, 450, 750]) {
      await waitFor(`${threshold} jobs done`, async () => (await ledgerCounts(db)).done >= threshold, 60_000, 20);
      assert.ok(running.consumers[0]!.inFlightCount > 0, 'the cut happens with messages in flight');
      proxy.cut();
    }
    await waitFor('all jobs done', async () => (await ledgerCounts(db)).done === N, 120_000, 200);
    await waitFor('the queue to drain', async () => (await queueDepth(`${t.prefix}ledger`)) === 0 && running.consumers[0]!.inFlightCount === 0, 60_000, 200);

    const { effects } = await ledgerCounts(db);
    assert.equal(effects.size, N, 'every job has its side effect');
    const wrong = [...effects].filter(([, n]) => n !== 2);
    assert.deepEqual(wrong, [], 'each side effect exactly once (two rows per job)');

    assert.equal(proxy.cuts, 3);
    assert.ok(running.app.broker.connectionGeneration >= 4, 'reconnected after each cut');
    assert.ok(running.consumers[0]!.attached, 'the consumer is attached again');
    assert.ok(lines.some((l) => l.msg === 'broker connection lost; reconnecting'));

    const labels = { service: 'ledger', queue: 'ledger' };
    const doneCount = await metricValue(metrics, 'vigil_messages_total', { ...labels, outcome: 'done' });
    const duplicates = await metricValue(metrics, 'vigil_messages_total', { ...labels, outcome: 'duplicate' });
    const total = await metricValue(metrics, 'vigil_messages_total', labels);
    assert.equal(doneCount, N, 'done counted once per message');
    assert.equal(total, doneCount + duplicates, 'redeliveries were recognised as duplicates; nothing retried or dead-lettered');
    assert.ok(duplicates > 0, 'the cuts caused redeliveries');
    console.log(`# cuts: ${proxy.cuts}, generations: ${running.app.broker.connectionGeneration}, done: ${doneCount}, duplicates: ${duplicates}`);
    assert.equal(await metricValue(metrics, 'vigil_in_flight', { service: 'ledger' }), 0);
    assert.equal(await metricValue(metrics, 'vigil_message_duration_seconds', labels), total, 'one duration per outcome');
  } finally {
    await running.stop();
  }
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createMetrics } from '../../shared/metrics.ts';
import { startHealthServer } from '../../shared/runtime/health-server.ts';

test('/healthz, /readyz and /metrics answer as the contract says', async () => {
  const metrics = createMetrics();
  let brokerUp = true;
  const server = await startHealthServer({
    port: 0,
    host: '127.0.0.1',
    registry: metrics.registry,
    checkTimeoutMs: 200,
    checks: { broker: () => brokerUp, database: async () => true, hung: () => new Promise<boolean>(() => {}) },
  });
  const get = (path: string) => fetch(`http://127.0.0.1:${server.port}${path}`);
  try {
    assert.equal((await get('/healthz')).status, 200);
    const notReady = await get('/readyz');
    assert.equal(notReady.status, 503, 'a hung check is not ready');
    assert.deepEqual(((await notReady.json()) as { checks: unknown }).checks, { broker: true, database: true, hung: false });

    metrics.messagesTotal.inc({ service: 'facetraining', queue: 'facetraining', outcome: 'done' });
    metrics.messageDuration.observe({ service: 'facetraining', queue: 'facetraining' }, 0.2);
    const text = await (await get('/metrics')).text();
    for (const name of ['vigil_messages_total', 'vigil_message_duration_seconds', 'vigil_in_flight', 'vigil_retries_total', 'vigil_dead_lettered_total', 'vigil_face_results_total', 'process_cpu_user_seconds_total']) {
      assert.match(text, new RegExp(`^# TYPE ${name} `, 'm'), name);
    }
    assert.match(text, /vigil_messages_total\{service="facetraining",queue="facetraining",outcome="done"\} 1/);
    assert.match(text, /vigil_message_duration_seconds_bucket\{le="3600"/);
    brokerUp = false;
    assert.equal((await get('/readyz')).status, 503);
    assert.equal((await get('/nope')).status, 404);
  } finally {
    await server.close();
  }
});

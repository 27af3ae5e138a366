import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger } from '../../shared/logger.ts';
import { BrokerConnection } from '../../shared/runtime/connection.ts';
import { TransientError } from '../../shared/errors.ts';
import { Publisher } from '../../shared/runtime/publisher.ts';
import { describeTopology } from '../../shared/runtime/topology.ts';
import { createTestEnv, AMQP_URL, type TestEnv } from '../helpers/test-env.ts';
import { TcpProxy } from '../helpers/tcp-proxy.ts';
import { drainQueue } from '../helpers/runtime-harness.ts';

const logger = createLogger({ level: 'silent' });
let t: TestEnv;
before(async () => {
  t = await createTestEnv('publisher', {}, { migrate: false });
});
after(() => t.cleanup());

function topology() {
  return { prefix: t.prefix, queueType: 'quorum' as const, retryDelaysMs: [5000], deliveryLimit: 20 };
}

function publisherFor(url: string, opts: { timeoutMs: number; maxPending?: number }) {
  const broker = new BrokerConnection({ url, connectionName: 'publisher test', logger, reconnectMinMs: 50, reconnectMaxMs: 200 });
  broker.start();
  const publisher = new Publisher(broker, { ...opts, topology: topology(), logger });
  return {
    broker,
    publisher,
    close: async () => {
      await publisher.close();
      await broker.close();
    },
  };
}

test('sendToQueue declares the topology before publishing, so nothing is dropped without a consumer', async () => {
  const p = publisherFor(AMQP_URL, { timeoutMs: 5000 });
  try {
    await p.publisher.sendToQueue('notifier', Buffer.from('{"x":1}'), { messageId: 'n-1' });
    const topo = describeTopology('notifier', topology());
    const got = await drainQueue(topo.work);
    assert.deepEqual(got.map((m) => m.body), ['{"x":1}']);
  } finally {
    await p.close();
  }
});

test('an unreachable broker fails a publish as transient within the timeout instead of hanging', async () => {
  const proxy = await TcpProxy.start(5672);
  proxy.block();
  const p = publisherFor(proxy.url(AMQP_URL), { timeoutMs: 800 });
  try {
    const t0 = Date.now();
    await assert.rejects(p.publisher.send('anywhere', Buffer.from('x')), (err: unknown) => err instanceof TransientError && err.code === 'BROKER_UNAVAILABLE');
    assert.ok(Date.now() - t0 < 3000);
  } finally {
    await p.close();
    await proxy.close();
  }
});

test('confirms that never come time out, and publishes beyond the pending limit fail fast', async () => {
  const proxy = await TcpProxy.start(5672);
  const p = publisherFor(proxy.url(AMQP_URL), { timeoutMs: 1500, maxPending: 2 });
  try {
    await p.publisher.sendToQueue('uploader', Buffer.from('{"warm":true}'));
    proxy.stall();
    const t0 = Date.now();
    const first = p.publisher.send(`${t.prefix}uploader`, Buffer.from('a'));
    const second = p.publisher.send(`${t.prefix}uploader`, Buffer.from('b'));
    await assert.rejects(p.publisher.send(`${t.prefix}uploader`, Buffer.from('c')), (err: unknown) => err instanceof TransientError && err.code === 'PUBLISH_BACKPRESSURE');
    // Both settle at about the same moment: take both at once, so neither rejection is
    // left without a handler while the other is being checked.
    for (const settled of await Promise.allSettled([first, second])) {
      assert.equal(settled.status, 'rejected');
      const err = (settled as PromiseRejectedResult).reason as unknown;
      assert.ok(err instanceof TransientError && err.code === 'PUBLISH_TIMEOUT', String(err));
    }
    const waited = Date.now() - t0;
    assert.ok(waited >= 1400 && waited < 4000, `timed out after about the publish timeout (${waited} ms)`);
  } finally {
    await p.close();
    await proxy.close();
  }
});

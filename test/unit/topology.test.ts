import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeTopology } from '../../shared/runtime/topology.ts';
import { queueNames } from '../../shared/contract/queue-names.ts';
import { attemptOf } from '../../shared/runtime/consumer.ts';
import { withHeartbeat } from '../../shared/runtime/connection.ts';

const opts = { prefix: 't1.', queueType: 'quorum' as const, retryDelaysMs: [5000, 30000, 120000, 600000], deliveryLimit: 20 };

test('a queue has a quorum work queue with a delivery limit, a DLQ, and one retry queue per delay', () => {
  const t = describeTopology('facetraining', opts);
  assert.equal(t.work, 't1.facetraining');
  assert.equal(t.dlq, 't1.facetraining.dlq');
  assert.deepEqual(t.declarations.map((d) => d.name), [
    't1.facetraining', 't1.facetraining.dlq',
    't1.facetraining.retry.5s', 't1.facetraining.retry.30s', 't1.facetraining.retry.2m', 't1.facetraining.retry.10m',
  ]);
  assert.deepEqual(t.declarations[0]!.options.arguments, {
    'x-queue-type': 'quorum', 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': 't1.facetraining.dlq', 'x-delivery-limit': 20,
  });
  assert.deepEqual(t.declarations[3]!.options.arguments, {
    'x-queue-type': 'classic', 'x-message-ttl': 30000, 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': 't1.facetraining',
  });
  for (const d of t.declarations) assert.equal(d.options.durable, true);
});

test('the n-th retry goes to the n-th delay; the last delay repeats', () => {
  const t = describeTopology('q', opts);
  assert.equal(t.retryQueue(0), 't1.q.retry.5s');
  assert.equal(t.retryQueue(3), 't1.q.retry.10m');
  assert.equal(t.retryQueue(9), 't1.q.retry.10m');
});

test('classic queues have no delivery limit (the broker would refuse it)', () => {
  const t = describeTopology('q', { ...opts, queueType: 'classic' });
  assert.equal(t.declarations[0]!.options.arguments!['x-delivery-limit'], undefined);
  assert.equal(t.declarations[0]!.options.arguments!['x-queue-type'], 'classic');
});

test('delays name their queues exactly, and a repeated delay is one queue', () => {
  assert.equal(queueNames('', 'x').retry(1500), 'x.retry.1500ms');
  assert.equal(queueNames('', 'x').retry(3_600_000), 'x.retry.1h');
  const t = describeTopology('x', { ...opts, prefix: '', retryDelaysMs: [1000, 1000, 2000] });
  assert.deepEqual(t.declarations.map((d) => d.name), ['x', 'x.dlq', 'x.retry.1s', 'x.retry.2s']);
});

test("attempts are Vigil's own header, believed only on a message back from one of this queue's retry queues", () => {
  const retries = new Set(['x.retry.5s', 'x.retry.30s']);
  const back = (queue: string) => ({ 'x-death': [{ queue, reason: 'expired', count: 1 }] });
  assert.equal(attemptOf(undefined, retries, 6), 1);
  assert.equal(attemptOf({}, retries, 6), 1);
  assert.equal(attemptOf({ 'x-vigil-attempt': 3, ...back('x.retry.30s') } as never, retries, 6), 3);
  assert.equal(attemptOf({ 'x-vigil-attempt': '4', ...back('x.retry.5s') } as never, retries, 6), 4);
  assert.equal(attemptOf({ 'x-vigil-attempt': 'junk', 'x-death': [{ count: 9 }] } as never, retries, 6), 1);
  assert.equal(attemptOf({ 'x-vigil-attempt': 0, ...back('x.retry.5s') } as never, retries, 6), 1);
  // A producer's header, with no retry behind it, or naming another queue: ignored.
  assert.equal(attemptOf({ 'x-vigil-attempt': 6 }, retries, 6), 1);
  assert.equal(attemptOf({ 'x-vigil-attempt': 5, ...back('other.retry.5s') } as never, retries, 6), 1);
  // Never past the last attempt, whatever the header says.
  assert.equal(attemptOf({ 'x-vigil-attempt': 99, ...back('x.retry.5s') } as never, retries, 6), 6);
});

test('the heartbeat goes into the URL unless the URL sets one', () => {
  assert.equal(withHeartbeat('amqp://u:p@h:5672', 15), 'amqp://u:p@h:5672?heartbeat=15');
  assert.equal(withHeartbeat('amqp://h/vhost?heartbeat=5', 15), 'amqp://h/vhost?heartbeat=5');
});

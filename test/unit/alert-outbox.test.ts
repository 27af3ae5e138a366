import { test } from 'node:test';
import assert from 'node:assert/strict';
import { publishAlertOutbox, type AlertOutboxPort } from '../../shared/runtime/alert-outbox.ts';
import type { Notification } from '../../shared/contract/messages.ts';

function memoryOutbox(rows: { id: number; notification: string }[]) {
  const state = new Map(rows.map((r) => [r.id, 'pending']));
  const reads: number[] = [];
  const port: AlertOutboxPort = {
    async pending(afterId, limit) {
      reads.push(afterId);
      return rows.filter((r) => r.id > afterId && state.get(r.id) === 'pending').slice(0, limit);
    },
    async markPublished(id) {
      state.set(id, 'published');
    },
    async markInvalid(id) {
      state.set(id, 'invalid');
    },
  };
  return { port, state, reads };
}

const alert = (id: number): { id: number; notification: string } => ({
  id,
  notification: JSON.stringify({ channel: 'email', to: ['sup@example.org'], template: 'face_absence', data: { streamImgId: id }, idempotencyKey: `face-absence-${id}` }),
});
const silent = { error: () => undefined };

test('the outbox publishes every pending alert a page at a time, in id order, marking each after its publish', async () => {
  const rows = Array.from({ length: 7 }, (_, i) => alert(i + 1));
  const { port, state, reads } = memoryOutbox(rows);
  const sent: Notification[] = [];
  const report = await publishAlertOutbox(port, async (n) => void sent.push(n), silent, 3);
  assert.deepEqual(report, { published: [1, 2, 3, 4, 5, 6, 7], invalid: 0 });
  assert.deepEqual(sent.map((n) => n.idempotencyKey), rows.map((r) => `face-absence-${r.id}`));
  assert.deepEqual(reads, [0, 3, 6], 'pages read after the last id of the one before');
  assert.ok([...state.values()].every((s) => s === 'published'));
});

test('a stored notification the notifier codec refuses is marked invalid, never published, and the rest still go', async () => {
  const broken = { id: 2, notification: JSON.stringify({ channel: 'pager', to: [], template: 'Face Absence!' }) };
  const garbage = { id: 3, notification: '{not json' };
  const { port, state } = memoryOutbox([alert(1), broken, garbage, alert(4)]);
  const sent: Notification[] = [];
  const logged: unknown[] = [];
  const report = await publishAlertOutbox(port, async (n) => void sent.push(n), { error: (o: unknown) => void logged.push(o) });
  assert.deepEqual(report, { published: [1, 4], invalid: 2 });
  assert.deepEqual(sent.map((n) => n.idempotencyKey), ['face-absence-1', 'face-absence-4']);
  assert.deepEqual([state.get(2), state.get(3)], ['invalid', 'invalid']);
  assert.equal(logged.length, 2);
});

test('a publish that fails stops the outbox with that error; what was not confirmed stays pending', async () => {
  const { port, state } = memoryOutbox([alert(1), alert(2), alert(3)]);
  let calls = 0;
  await assert.rejects(
    publishAlertOutbox(port, async () => {
      if (++calls === 2) throw new Error('broker gone');
    }, silent),
    /broker gone/,
  );
  assert.deepEqual([state.get(1), state.get(2), state.get(3)], ['published', 'pending', 'pending']);
});

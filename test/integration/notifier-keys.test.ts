import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { alertOutboxRepository } from '../../db/repositories/alert-outbox.repository.ts';
import { loadConfig } from '../../services/config.ts';
import type { RunningApp } from '../../shared/app/run-services.ts';
import { CODECS, type Notification } from '../../shared/contract/messages.ts';
import { publishAlertOutbox, publishNotification } from '../../shared/runtime/alert-outbox.ts';
import { buildAlert } from '../../services/facestreaming/alerts.ts';
import { service as notifier } from '../../services/notifier/main.ts';
import { captureLogger, metricValue, publishRaw, startApp, waitFor } from '../helpers/runtime-harness.ts';
import { SmtpTestServer, mailHeader, mailPart } from '../helpers/smtp-test-server.ts';
import { createTestEnv, type TestEnv } from '../helpers/test-env.ts';

// Issue 22, finding 3: a producer must not be able to silence one of Vigil's own alerts by
// claiming its idempotency key first, and a refused notification must not swallow a later
// valid one with the same key. Real SMTP server, MariaDB and RabbitMQ.

let t: TestEnv;
let smtp: SmtpTestServer;
let app: RunningApp;

before(async () => {
  smtp = await SmtpTestServer.start();
  t = await createTestEnv('notifier_keys', {
    SMTP_URL: smtp.url,
    SMTP_FROM: 'Vigil <vigil@vigil.example.org>',
    SMTP_TLS_REJECT_UNAUTHORIZED: 'false',
    VIGIL_RETRY_DELAYS: '300ms,300ms,300ms',
    LOG_LEVEL: 'info',
  });
  app = await startApp(loadConfig(t.env), [notifier], captureLogger('info').logger);
  await waitFor('the consumer', () => app.consumers[0]!.attached, 30_000);
});

after(async () => {
  await app?.stop();
  await t?.cleanup();
  await smtp?.close();
});

const id = () => randomBytes(4).toString('hex');
const SUPERVISOR = 'security@example.org';

async function publish(...ns: Notification[]): Promise<void> {
  await publishRaw(`${t.prefix}notifier`, ns.map((n) => CODECS.notifier.encode(n)));
}

/** Every message handed to the notifier so far has been handled (counted once each). */
async function handled(n: number): Promise<void> {
  await waitFor(`${n} notifications handled`, async () => (await metricValue(app.app.metrics, 'vigil_messages_total')) >= n && app.consumers[0]!.inFlightCount === 0, 30_000);
}

let expectedHandled = 0;
async function publishAndSettle(...ns: Notification[]): Promise<void> {
  await publish(...ns);
  expectedHandled += ns.length;
  await handled(expectedHandled);
}

/** As facestreaming does it: the alert committed in `face_alert`, then the outbox published to `notifier`. */
async function raiseImpersonationAlert(lanId: string): Promise<{ streamImgId: number }> {
  const db = t.database().db;
  const streamImgId = Number(
    (await db.insertInto('stream_img').values({ lan_id: lanId, status: 'Y', result: 'IMPERSONATION_SUSPECTED', capture_time: new Date(), image: Buffer.from('x') }).executeTakeFirstOrThrow()).insertId,
  );
  const alert = buildAlert('impersonation', { channel: 'email', to: [SUPERVISOR] }, { lanId, streamImgId, captureTime: new Date('2026-12-07T09:00:00Z'), trainImgId: 3 });
  await db.insertInto('face_alert').values({ lan_id: lanId, stream_img_id: streamImgId, kind: 'impersonation', state: alert.state, notification: JSON.stringify(alert.notification) }).execute();
  return { streamImgId };
}

async function publishOutbox(streamImgId: number): Promise<void> {
  const outbox = alertOutboxRepository(t.database().db).ofSnapshot(streamImgId);
  const report = await publishAlertOutbox(
    outbox,
    (n) => publishNotification(app.app.publisher, n),
    captureLogger('error').logger,
  );
  assert.equal(report.published.length, 1);
  expectedHandled += 1;
  await handled(expectedHandled);
}

/** The impersonation mails to `to` about `lanId` (unique per test). */
const mailsAbout = (lanId: string, to: string) =>
  smtp.mails.filter((m) => m.to.includes(to) && (mailPart(m.raw, 'text/plain') ?? '').includes(lanId) && /impersonation/i.test(mailHeader(m.raw, 'Subject') ?? ''));

test('a producer that claims an impersonation alert\'s predictable key with an unknown template does not silence the alert', async () => {
  const lanId = `NA\\victim${id()}`;
  const { streamImgId } = await raiseImpersonationAlert(lanId);
  const alert = JSON.parse((await t.database().db.selectFrom('face_alert').select('notification').where('stream_img_id', '=', streamImgId).executeTakeFirstOrThrow()).notification) as Notification;
  // The attacker knows the stream_img id and the key scheme: both the old and the stored key.
  await publishAndSettle(
    { channel: 'email', to: ['attacker@evil.example'], template: 'no_such_template', idempotencyKey: `face-impersonation-${streamImgId}`, data: {} },
    { channel: 'email', to: ['attacker@evil.example'], template: 'no_such_template', idempotencyKey: alert.idempotencyKey!, data: {} },
  );
  await publishOutbox(streamImgId);
  assert.equal(mailsAbout(lanId, SUPERVISOR).length, 1, 'the impersonation alert reached the supervisor');
});

test('a producer that claims the alert\'s key with a valid template and its own recipient does not silence the alert either', async () => {
  const lanId = `NA\\victim${id()}`;
  const { streamImgId } = await raiseImpersonationAlert(lanId);
  const alert = JSON.parse((await t.database().db.selectFrom('face_alert').select('notification').where('stream_img_id', '=', streamImgId).executeTakeFirstOrThrow()).notification) as Notification;
  await publishAndSettle({ ...alert, to: ['attacker@evil.example'] });
  await publishOutbox(streamImgId);
  assert.equal(mailsAbout(lanId, SUPERVISOR).length, 1, 'the impersonation alert reached the supervisor');
  // The alert republished (a retry, `vigil rescue`) is still sent once.
  await t.database().db.updateTable('face_alert').set({ state: 'pending' }).where('stream_img_id', '=', streamImgId).execute();
  await publishOutbox(streamImgId);
  assert.equal(mailsAbout(lanId, SUPERVISOR).length, 1, 'a republished alert is a duplicate');
});

test('a refused notification does not swallow a later valid one with the same producer key; its own redelivery stays a duplicate', async () => {
  const key = `upload-${id()}-0`;
  const to = `speaker-${id()}@example.org`;
  const refused: Notification = { channel: 'email', to: [to], template: 'no_such_template', idempotencyKey: key, data: {} };
  const valid: Notification = { channel: 'email', to: [to], template: 'video_published', idempotencyKey: key, data: { name: 'Ada', title: 'Talk', url: 'https://lib.example/t.mp4' } };
  const duplicatesBefore = await metricValue(app.app.metrics, 'vigil_notifications_total', { outcome: 'duplicate' });
  await publishAndSettle(refused);
  await publishAndSettle(refused);
  assert.equal(await metricValue(app.app.metrics, 'vigil_notifications_total', { outcome: 'duplicate' }), duplicatesBefore + 1, 'the refused message redelivered is a duplicate');
  await publishAndSettle(valid);
  assert.equal(smtp.mails.filter((m) => m.to.includes(to)).length, 1, 'the valid notification was delivered');
  // Once sent, the key is spent: the contract's duplicate, whatever the content.
  await publishAndSettle(valid, { ...valid, data: { ...valid.data, title: 'Other' } });
  assert.equal(smtp.mails.filter((m) => m.to.includes(to)).length, 1, 'a sent key is not sent again');
  const rows = await t.database().db.selectFrom('notification').select(['status', 'template']).where('idempotency_key', '=', key).execute();
  assert.deepEqual(rows, [{ status: 'sent', template: 'video_published' }]);
});

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { keyHash } from '../../db/repositories/notifier.repository.ts';
import { loadConfig } from '../../services/config.ts';
import type { RunningApp } from '../../shared/app/run-services.ts';
import { CODECS, type Notification } from '../../shared/contract/messages.ts';
import { service as notifier } from '../../services/notifier/main.ts';
import { messageIdFor } from '../../services/notifier/notification-key.ts';
import { captureLogger, drainQueue, metricValue, publishRaw, startApp, waitFor } from '../helpers/runtime-harness.ts';
import { SmtpTestServer, mailHeader, mailPart } from '../helpers/smtp-test-server.ts';
import { createTestEnv, type TestEnv } from '../helpers/test-env.ts';
import { WebhookReceiver } from '../helpers/webhook-receiver.ts';

// The notifier against a real SMTP server (smtp-server, STARTTLS with its self-signed
// certificate), a local HTTP webhook receiver, and the real MariaDB and RabbitMQ.

const SECRET = 'whsec-test-only';
let t: TestEnv;
let smtp: SmtpTestServer;
let hooks: WebhookReceiver;

before(async () => {
  [smtp, hooks] = await Promise.all([SmtpTestServer.start({ rejectRecipients: ['nobody@example.org'] }), WebhookReceiver.start()]);
  t = await createTestEnv('notifier', {
    SMTP_URL: smtp.url,
    SMTP_FROM: 'Vigil <vigil@vigil.example.org>',
    SMTP_TLS_REJECT_UNAUTHORIZED: 'false',
    NOTIFIER_WEBHOOKS: `ops=${hooks.url('/hooks/ops')}`,
    NOTIFIER_WEBHOOK_ALLOW: hooks.url('/allowed/'),
    NOTIFIER_WEBHOOK_SECRET: SECRET,
    VIGIL_RETRY_DELAYS: '300ms,300ms,300ms,300ms,300ms',
    VIGIL_MAX_ATTEMPTS: '8',
    LOG_LEVEL: 'info',
  });
});

after(async () => {
  await t?.cleanup();
  await smtp?.close();
  await hooks?.close();
});

async function withNotifier<T>(env: Record<string, string>, fn: (app: RunningApp) => Promise<T>): Promise<{ value: T; lines: Record<string, any>[] }> {
  const { logger, lines } = captureLogger('info');
  const app = await startApp(loadConfig({ ...t.env, ...env }), [notifier], logger);
  try {
    await waitFor('the consumer', () => app.consumers[0]!.attached, 30_000);
    return { value: await fn(app), lines };
  } finally {
    await app.stop();
  }
}

const id = () => randomBytes(4).toString('hex');

async function publish(...ns: Notification[]): Promise<void> {
  await publishRaw(`${t.prefix}notifier`, ns.map((n) => CODECS.notifier.encode(n)));
}

async function row(key: string): Promise<Record<string, any> | undefined> {
  return t.database().db.selectFrom('notification').selectAll().where('key_sha256', '=', keyHash(key)).executeTakeFirst();
}

async function settled(app: RunningApp, key: string, statuses = ['sent', 'failed', 'folded']): Promise<Record<string, any>> {
  let r: Record<string, any> | undefined;
  await waitFor(`notification ${key}`, async () => {
    r = await row(key);
    return r !== undefined && statuses.includes(r.status) && app.consumers[0]!.inFlightCount === 0;
  }, 30_000);
  return r!;
}

function published(key: string, to: string[]): Notification {
  return {
    channel: 'email', to, template: 'video_published', idempotencyKey: key,
    data: { name: 'Ada Lovelace', title: 'Right metrics & <wrong> metrics', url: 'https://fb.example/v/1', links: { library: 'https://lib.example/talk.mp4', facebook: 'https://fb.example/v/1' } },
  };
}

test('an email: subject, To, text and HTML bodies, the Message-ID and the idempotency header; a repeat is a duplicate', async () => {
  const key = `upload-${id()}-0`;
  const before = smtp.mails.length;
  const { value: app } = await withNotifier({}, async (app) => {
    await publish(published(key, ['ada@example.org']));
    const r = await settled(app, key);
    assert.equal(r.status, 'sent');
    assert.equal(r.attempts, 1);
    // The same notification again, as a redelivery or a republished outbox row would bring it.
    await publish(published(key, ['ada@example.org']));
    await waitFor('the duplicate', async () => (await metricValue(app.app.metrics, 'vigil_notifications_total', { outcome: 'duplicate' })) === 1, 30_000);
    return app;
  });
  assert.equal(smtp.mails.length - before, 1, 'one mail for two deliveries');
  const mail = smtp.mails.at(-1)!;
  assert.deepEqual(mail.to, ['ada@example.org']);
  assert.equal(mail.from, 'vigil@vigil.example.org');
  assert.equal(mail.secure, true, 'STARTTLS was used');
  assert.equal(mailHeader(mail.raw, 'To'), 'ada@example.org');
  assert.equal(mailHeader(mail.raw, 'Subject'), 'Your talk "Right metrics & <wrong> metrics" is online');
  assert.equal(mailHeader(mail.raw, 'Message-ID'), messageIdFor(key, 'vigil.example.org'));
  assert.equal(mailHeader(mail.raw, 'X-Vigil-Idempotency-Key'), key);
  const text = mailPart(mail.raw, 'text/plain')!;
  assert.match(text, /Hello Ada Lovelace,/);
  assert.match(text, /is online: https:\/\/fb\.example\/v\/1/);
  assert.match(text, /Library: https:\/\/lib\.example\/talk\.mp4/);
  const html = mailPart(mail.raw, 'text/html')!;
  assert.match(html, /Right metrics &amp; &lt;wrong&gt; metrics/, 'data is HTML-escaped');
  assert.match(html, /<a href="https:\/\/lib\.example\/talk\.mp4">/);
  const r = await row(key);
  assert.equal(r!.provider_message_id, messageIdFor(key, 'vigil.example.org'));
  assert.match(r!.provider_response, /queued as test-/);
  assert.equal(await metricValue(app.app.metrics, 'vigil_messages_total', { outcome: 'duplicate' }), 1);
});

test('a 550 answer is recorded failed and not retried: one SMTP transaction', async () => {
  const key = `nomailbox-${id()}`;
  const before = smtp.transactions;
  await withNotifier({}, async (app) => {
    await publish(published(key, ['nobody@example.org']));
    const r = await settled(app, key);
    assert.equal(r.status, 'failed');
    assert.equal(r.error_code, 'SMTP_REJECTED');
    assert.match(r.error_message, /550/);
    assert.equal(r.attempts, 1);
    assert.equal(await metricValue(app.app.metrics, 'vigil_retries_total'), 0);
  });
  assert.equal(smtp.transactions - before, 1);
});

test('an invalid address is refused before any SMTP transaction', async () => {
  const key = `badaddr-${id()}`;
  const before = smtp.transactions;
  await withNotifier({}, async (app) => {
    await publish(published(key, ['ada@example.org', 'not an address\r\nBcc: x@evil.example']));
    const r = await settled(app, key);
    assert.equal(r.status, 'failed');
    assert.equal(r.error_code, 'ADDRESS_INVALID');
    assert.equal(r.attempts, 0);
  });
  assert.equal(smtp.transactions, before);
});

test('SMTP down, then up: the notification is retried and sent once', async () => {
  const port = await freePort();
  const key = `down-${id()}`;
  let later: SmtpTestServer | undefined;
  try {
    await withNotifier({ SMTP_URL: `smtp://127.0.0.1:${port}`, SMTP_TIMEOUT: '2s' }, async (app) => {
      await publish(published(key, ['ada@example.org']));
      await waitFor('a failed attempt', async () => (await row(key))?.error_code === 'SMTP_UNAVAILABLE', 30_000);
      assert.equal((await row(key))!.status, 'pending');
      later = await SmtpTestServer.start({ port });
      const r = await settled(app, key);
      assert.equal(r.status, 'sent');
      assert.ok(r.attempts >= 2, `attempts ${r.attempts}`);
      assert.ok((await metricValue(app.app.metrics, 'vigil_retries_total')) >= 1);
    });
    assert.equal(later!.mails.length, 1);
    assert.equal(mailHeader(later!.mails[0]!.raw, 'X-Vigil-Idempotency-Key'), key);
  } finally {
    await later?.close();
  }
});

test('rate limit: the 11th alert to one recipient within the window is folded, not sent', async () => {
  const to = `guard-${id()}@example.org`;
  const before = smtp.mails.length;
  const keys = Array.from({ length: 11 }, (_, i) => `face-unknown_person-${id()}-${i}`);
  await withNotifier({ NOTIFIER_RATE_LIMIT: '10/1h' }, async (app) => {
    await publish(...keys.map((k, i) => ({
      channel: 'email' as const, to: [to], template: 'face_unknown_person', idempotencyKey: k,
      data: { kind: 'unknown_person', lanId: 'jdoe', streamImgId: 100 + i, captureTime: '2026-12-01T10:00:00.000Z', streak: 2 },
    })));
    const rows = await Promise.all(keys.map((k) => settled(app, k)));
    const statuses = rows.map((r) => r.status).sort();
    assert.deepEqual(statuses, [...Array(10).fill('sent'), 'folded'].sort());
    const folded = rows.find((r) => r.status === 'folded')!;
    assert.deepEqual(JSON.parse(folded.folded_to), [to]);
  });
  assert.equal(smtp.mails.filter((m) => m.to.includes(to)).length, 10);
  assert.equal(smtp.mails.length - before, 10);
  // Video links are not alerts: the same recipient still gets them.
  const key = `upload-${id()}-1`;
  await withNotifier({ NOTIFIER_RATE_LIMIT: '10/1h' }, async (app) => {
    await publish(published(key, [to]));
    assert.equal((await settled(app, key)).status, 'sent');
  });
});

const REVIEW_URL = 'https://vigil.example/console/review/snapshot/7';

test('webhooks: a named target and an allowed URL get a signed body with the idempotency key; any other URL is refused and recorded', async () => {
  const named = `face-impersonation-${id()}`;
  const direct = `dl-${id()}`;
  const refused = `evil-${id()}`;
  const before = hooks.received.length;
  await withNotifier({}, async (app) => {
    await publish(
      {
        channel: 'webhook', to: ['ops'], template: 'face_impersonation_suspected', idempotencyKey: named,
        data: { kind: 'impersonation', lanId: 'jdoe', streamImgId: 7, captureTime: '2026-12-01T10:00:00.000Z', trainImgId: 3, evidence: [{ a: 5, b: 7, distance: 0.05 }], reviewUrl: REVIEW_URL },
      },
      { channel: 'webhook', to: [hooks.url('/allowed/dead')], template: 'dead_letters', idempotencyKey: direct, data: { queues: [{ queue: 'transcoder.dlq', count: 2 }] } },
      { channel: 'webhook', to: [hooks.url('/allowed/../internal'), 'http://169.254.169.254/latest/meta-data'], template: 'dead_letters', idempotencyKey: refused, data: { queues: [{ queue: 'x.dlq', count: 1 }] } },
    );
    assert.equal((await settled(app, named)).status, 'sent');
    assert.equal((await settled(app, direct)).status, 'sent');
    const r = await settled(app, refused);
    assert.equal(r.status, 'failed');
    assert.equal(r.error_code, 'WEBHOOK_NOT_ALLOWED');
    assert.match(r.error_message, /http:\/\/169\.254\.169\.254/);
  });
  const got = hooks.received.slice(before);
  assert.deepEqual(got.map((h) => h.path).sort(), ['/allowed/dead', '/hooks/ops']);
  for (const h of got) {
    const sig = String(h.headers['x-vigil-signature']);
    const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(sig);
    assert.ok(m, sig);
    assert.equal(m[2], createHmac('sha256', SECRET).update(`${m[1]}.${h.body}`).digest('hex'));
    assert.ok(Math.abs(Number(m[1]) - Date.now() / 1000) < 300);
    assert.equal(h.headers['content-type'], 'application/json');
  }
  const ops = got.find((h) => h.path === '/hooks/ops')!;
  assert.equal(ops.headers['x-vigil-idempotency-key'], named);
  const body = JSON.parse(ops.body);
  assert.match(body.text, /^\*Possible impersonation: jdoe\*/);
  assert.match(body.text, /Snapshot:\s+7/);
  assert.equal(body.idempotencyKey, named);
  assert.equal(body.template, 'face_impersonation_suspected');
  assert.equal(body.data.lanId, 'jdoe');
  // The console's deep link (facestreaming adds it when CONSOLE_URL is set) goes out as it came, and in the text.
  assert.equal(body.data.reviewUrl, REVIEW_URL);
  assert.match(body.text, /Review it: https:\/\/vigil\.example\/console\/review\/snapshot\/7/);
});

test('a webhook answering 503 is retried, a 404 fails for good', async () => {
  const flaky = `flaky-${id()}`;
  const gone = `gone-${id()}`;
  let failures = 2;
  hooks.status = (path) => (path === '/allowed/flaky' && failures-- > 0 ? 503 : path === '/allowed/gone' ? 404 : 200);
  try {
    await withNotifier({}, async (app) => {
      await publish(
        { channel: 'webhook', to: [hooks.url('/allowed/flaky')], template: 'dead_letters', idempotencyKey: flaky, data: { queues: [{ queue: 'uploader.dlq', count: 1 }] } },
        { channel: 'webhook', to: [hooks.url('/allowed/gone')], template: 'dead_letters', idempotencyKey: gone, data: { queues: [{ queue: 'uploader.dlq', count: 1 }] } },
      );
      const f = await settled(app, flaky);
      assert.equal(f.status, 'sent');
      assert.equal(f.attempts, 3);
      const g = await settled(app, gone);
      assert.equal(g.status, 'failed');
      assert.equal(g.error_code, 'WEBHOOK_REFUSED');
      assert.equal(g.attempts, 1);
    });
  } finally {
    hooks.status = () => 200;
  }
});

test('missing template data is rejected with the fields named, and recorded', async () => {
  const key = `nodata-${id()}`;
  const before = smtp.transactions;
  const { lines } = await withNotifier({}, async (app) => {
    await publish({ channel: 'email', to: ['ada@example.org'], template: 'video_published', idempotencyKey: key, data: { name: 'Ada' } });
    const r = await settled(app, key);
    assert.equal(r.status, 'failed');
    assert.equal(r.error_code, 'TEMPLATE_DATA_MISSING');
    assert.match(r.error_message, /video_published needs data title, url/);
    assert.equal(await metricValue(app.app.metrics, 'vigil_messages_total', { outcome: 'rejected' }), 1);
  });
  assert.equal(smtp.transactions, before);
  assert.ok(lines.some((l) => l.code === 'TEMPLATE_DATA_MISSING'));
  assert.deepEqual(await drainQueue(`${t.prefix}notifier.dlq`), [], 'recorded, so not dead-lettered');
});

test('a row left "sending" by a dead process is sent again only past NOTIFIER_SENDING_TIMEOUT, with the same Message-ID', async () => {
  const fresh = `crash-fresh-${id()}`;
  const stale = `crash-stale-${id()}`;
  const db = t.database().db;
  for (const [key, agoMs] of [[fresh, 0], [stale, 60_000]] as const) {
    await db.insertInto('notification').values({
      key_sha256: keyHash(key), idempotency_key: key, key_source: 'producer', channel: 'email', recipients: '["ada@example.org"]',
      template: 'video_published', data: '{}', status: 'sending', attempts: 1, message_id: messageIdFor(key, 'vigil.example.org'),
      sending_at: new Date(Date.now() - agoMs),
    }).execute();
  }
  const before = smtp.mails.length;
  await withNotifier({ NOTIFIER_SENDING_TIMEOUT: '30s' }, async (app) => {
    await publish(published(stale, ['ada@example.org']), published(fresh, ['ada@example.org']));
    const r = await settled(app, stale);
    assert.equal(r.attempts, 2);
    // The fresh one belongs to a sender that may still be alive: retried, not sent.
    await waitFor('a retry of the fresh one', async () => (await metricValue(app.app.metrics, 'vigil_retries_total')) >= 1, 30_000);
    assert.equal((await row(fresh))!.status, 'sending');
  });
  const mails = smtp.mails.slice(before);
  assert.equal(mails.length, 1);
  assert.equal(mailHeader(mails[0]!.raw, 'Message-ID'), messageIdFor(stale, 'vigil.example.org'));
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classifySmtpError } from '../../services/notifier/email-sender.ts';
import { canonicalJson, contentHash, messageIdFor, notificationKey } from '../../services/notifier/notification-key.ts';
import { checkEmailAddresses, resolveWebhooks, underPrefix } from '../../services/notifier/recipients.ts';
import { isEmailAddress } from '../../shared/contract/email-address.ts';
import { loadTemplates, parseTemplateFile, renderMessage, templateFor } from '../../services/notifier/templates.ts';
import { signatureHeader } from '../../services/notifier/webhook-sender.ts';
import { PermanentError, VigilError } from '../../shared/errors.ts';

// The engine itself (escaping, links, helpers, broken templates) is tested in template-engine.test.ts.

test('template files: one per contract template, each declaring the fields the contract gives it', async () => {
  const catalog = await loadTemplates();
  const requires = Object.fromEntries([...catalog.values()].map((t) => [t.name, t.requires]));
  const face = ['kind', 'lanId', 'streamImgId', 'captureTime'];
  assert.deepEqual(requires, {
    video_published: ['name', 'title', 'url'],
    face_impersonation_suspected: face,
    face_absence: face,
    face_unknown_person: face,
    work_pending: ['since', 'counts'],
    dead_letters: ['queues'],
  });
  assert.deepEqual([...catalog.values()].filter((t) => t.rateLimited).map((t) => t.name).sort(), ['face_absence', 'face_impersonation_suspected', 'face_unknown_person']);
  const m = renderMessage(templateFor(catalog, 'work_pending', { since: '2026-12-01T08:00:00Z', counts: { UNKNOWN_PERSON: 4 } }), { since: '2026-12-01T08:00:00Z', counts: { UNKNOWN_PERSON: 4 } });
  assert.match(m.text, /UNKNOWN_PERSON: 4/);
  assert.match(m.html, /<li>UNKNOWN_PERSON: 4<\/li>/);
});

test('templateFor: an unknown template and missing data are permanent, naming what is missing', async () => {
  const catalog = await loadTemplates();
  assert.throws(() => templateFor(catalog, 'nope', {}), (e: VigilError) => e.code === 'TEMPLATE_UNKNOWN' && e.permanent);
  assert.throws(
    () => templateFor(catalog, 'face_absence', { kind: 'absence', lanId: 'x', captureTime: '' }),
    (e: VigilError) => e instanceof PermanentError && e.code === 'TEMPLATE_DATA_MISSING' && /needs data streamImgId, captureTime$/.test(e.message),
  );
});

test('a subject is one line, whatever the data', () => {
  const t = parseTemplateFile('x', 'subject: Hi <%= it.name %>\n---\nbody\n', '<p>body</p>');
  assert.equal(renderMessage(t, { name: 'a\r\nBcc: evil@example.org' }).subject, 'Hi a Bcc: evil@example.org');
  assert.throws(() => parseTemplateFile('y', 'no header', ''), /no '---' line/);
});

test('webhook signature: t=<unix>,v1=<HMAC-SHA256 of "<t>.<body>">', () => {
  // Computed with: printf '%s' '1700000000.{"text":"hi"}' | openssl dgst -sha256 -hmac whsec
  assert.equal(signatureHeader('whsec', '{"text":"hi"}', 1700000000), 't=1700000000,v1=851e82bbf388a45568eab8df189dcbe3cc07fb269da556bc168ef1d7e4ed5ef2');
});

test('webhook allow-list: named targets, their URLs, and URLs under a prefix; nothing else', () => {
  const rules = { named: { ops: 'https://hooks.example.com/T1/secret', toString: 'https://x.example/' }, allow: ['https://hooks.slack.com/services/', 'https://teams.example.org/hook'] };
  assert.deepEqual(resolveWebhooks(['ops'], rules), [{ entry: 'ops', label: 'ops', url: 'https://hooks.example.com/T1/secret' }]);
  assert.equal(resolveWebhooks(['https://hooks.example.com/T1/secret'], rules)[0]!.label, 'ops');
  assert.equal(resolveWebhooks(['https://hooks.slack.com/services/T/B/x'], rules)[0]!.label, 'https://hooks.slack.com');
  assert.ok(underPrefix('https://teams.example.org/hook', 'https://teams.example.org/hook'));
  assert.ok(underPrefix('https://teams.example.org/hook/abc', 'https://teams.example.org/hook'));
  for (const bad of [
    'https://teams.example.org/hooker',
    'https://hooks.slack.com.evil.example/services/x',
    'http://hooks.slack.com/services/x',
    'https://hooks.slack.com:444/services/x',
    'https://user:pw@hooks.slack.com/services/x',
    'https://hooks.slack.com/services/../admin',
    'https://hooks.slack.com/other',
    'http://169.254.169.254/latest/meta-data',
    'not a url',
  ]) {
    assert.throws(() => resolveWebhooks([bad], rules), (e: VigilError) => e.code === 'WEBHOOK_NOT_ALLOWED' && e.permanent, bad);
  }
  // An inherited property is not a target name.
  assert.throws(() => resolveWebhooks(['constructor'], rules), /WEBHOOK|not in/);
  // The error names only origins: a webhook URL's path is often its secret.
  assert.throws(() => resolveWebhooks(['https://evil.example/token-abc'], rules), (e: Error) => !e.message.includes('token-abc'));
});

test('email addresses are checked before sending', () => {
  for (const ok of ['ada@example.org', 'a.b+tag@mail.example.co.uk', "o'neil@example.com", 'x_y@sub-domain.example']) assert.ok(isEmailAddress(ok), ok);
  for (const bad of ['', 'ada', '@example.org', 'ada@', 'ada@localhost', 'a..b@example.org', '.a@example.org', 'a b@example.org', 'Ada <ada@example.org>',
    'ada@example.org\r\nBcc: x@y.org', 'ada@-example.org', 'ada@example.123', `${'a'.repeat(65)}@example.org`, 'ada@exa_mple.org']) {
    assert.ok(!isEmailAddress(bad), bad);
  }
  assert.deepEqual(checkEmailAddresses(['Ada@Example.org', 'ada@example.org']), ['ada@example.org']);
  assert.throws(() => checkEmailAddresses(['ada@example.org', 'nope']), (e: VigilError) => e.code === 'ADDRESS_INVALID' && /"nope"/.test(e.message));
});

test('notification keys: the producer key, else the message id, else the content hash', () => {
  const n = { channel: 'email' as const, to: ['a@example.org'], template: 't', data: { b: 1, a: 2 } };
  assert.deepEqual(notificationKey({ ...n, idempotencyKey: 'k1' }, 'm1'), { key: 'k1', source: 'producer', contentSha256: contentHash(n) });
  assert.deepEqual(notificationKey(n, 'm1'), { key: 'message:m1', source: 'message_id', contentSha256: contentHash(n) });
  // Vigil's own keys are bound to the content: the same key with other words is another key.
  const vigil = notificationKey({ ...n, idempotencyKey: 'vigil:face-impersonation-7' }, 'm1');
  assert.deepEqual(vigil, { key: `vigil:face-impersonation-7#${contentHash(n)}`, source: 'vigil', contentSha256: contentHash(n) });
  assert.notEqual(notificationKey({ ...n, template: 'other', idempotencyKey: 'vigil:face-impersonation-7' }, 'm1').key, vigil.key);
  const c = notificationKey(n, undefined);
  assert.equal(c.source, 'content');
  assert.equal(notificationKey({ ...n, data: { a: 2, b: 1 } }, undefined).key, c.key, 'key order does not matter');
  assert.notEqual(notificationKey({ ...n, to: ['b@example.org'] }, undefined).key, c.key);
  assert.equal(canonicalJson({ b: [1, { d: 1, c: 2 }], a: null }), '{"a":null,"b":[1,{"c":2,"d":1}]}');
  assert.equal(messageIdFor('k1', 'example.org'), messageIdFor('k1', 'example.org'));
  assert.match(messageIdFor('k1', 'example.org'), /^<notify\.[0-9a-f]{40}@example\.org>$/);
});

test('SMTP errors: 5xx permanent, 4xx, 503, auth and connection failures transient', () => {
  const c = (e: object) => classifySmtpError(Object.assign(new Error('x'), e)) as VigilError;
  assert.deepEqual([c({ code: 'EENVELOPE', responseCode: 550, response: '550 no such mailbox' })].map((e) => [e.code, e.permanent]), [['SMTP_REJECTED', true]]);
  assert.equal(c({ code: 'EMESSAGE', responseCode: 552 }).permanent, true);
  assert.deepEqual([c({ code: 'EENVELOPE', responseCode: 451 })].map((e) => [e.code, e.permanent]), [['SMTP_DEFERRED', false]]);
  assert.equal(c({ code: 'EPROTOCOL', responseCode: 503 }).permanent, false);
  assert.equal(c({ code: 'EAUTH', responseCode: 535 }).permanent, false);
  assert.deepEqual([c({ code: 'ESOCKET' })].map((e) => [e.code, e.permanent]), [['SMTP_UNAVAILABLE', false]]);
});

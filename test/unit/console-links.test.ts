// The console's deep links (CONTRACT.md "Console") and the alerts that carry them: one
// builder for every CONSOLE_URL spelling, the link in facestreaming's notification data, and
// in the email the notifier renders from it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { consoleLinks, consolePaths } from '../../shared/contract/console-links.ts';
import { buildAlert } from '../../services/facestreaming/alerts.ts';
import type { Notification } from '../../shared/contract/messages.ts';
import { loadTemplates, renderMessage, templateFor } from '../../services/notifier/templates.ts';

test('consoleLinks: the contract paths under CONSOLE_URL, with or without a trailing slash or a path prefix', () => {
  for (const [base, root] of [
    ['https://vigil.example', 'https://vigil.example'],
    ['https://vigil.example/', 'https://vigil.example'],
    ['https://host/vigil', 'https://host/vigil'],
    ['https://host/vigil/', 'https://host/vigil'],
    ['https://host/vigil//', 'https://host/vigil'],
    ['http://10.0.0.5:8080/', 'http://10.0.0.5:8080'],
    ['https://host/vigil/?x=1#top', 'https://host/vigil'],
  ] as const) {
    const l = consoleLinks(base);
    assert.equal(l.queue(), `${root}/review`, base);
    assert.equal(l.snapshot(4711), `${root}/review/snapshot/4711`, base);
    assert.equal(l.enrolment(42), `${root}/review/enrolment/42`, base);
    assert.equal(l.employee('ada'), `${root}/employees/ada`, base);
  }
});

test('a lan_id is one path segment: a slash, backslash, question mark, hash, space or markup is encoded', () => {
  const l = consoleLinks('https://host/vigil/');
  assert.equal(l.employee('NA\\ada'), 'https://host/vigil/employees/NA%5Cada');
  assert.equal(l.employee('../admin?x=1#y z'), 'https://host/vigil/employees/..%2Fadmin%3Fx%3D1%23y%20z');
  assert.equal(l.employee('<script>alert(1)</script>'), 'https://host/vigil/employees/%3Cscript%3Ealert(1)%3C%2Fscript%3E');
  assert.equal(decodeURIComponent(new URL(l.employee('Zoë/ü')).pathname.split('/').at(-1)!), 'Zoë/ü');
  assert.equal(consolePaths.employee('a/b'), '/employees/a%2Fb');
  assert.equal(consolePaths.snapshot(7), '/review/snapshot/7');
});

const at = new Date('2026-12-07T09:00:00Z');
const route = { channel: 'email' as const, to: ['lead@example.org'] };
/** The alert's notification (the outbox row keeps it as JSON, typed unknown there). */
const note = (a: ReturnType<typeof buildAlert>) => a.notification as Notification & { data: Record<string, unknown> };

test("an alert carries the snapshot's deep link when CONSOLE_URL is set, an absence also the employee's page; without it neither", () => {
  const links = consoleLinks('https://host/vigil/');
  const imp = buildAlert('impersonation', route, { lanId: 'NA\\ada', streamImgId: 42, captureTime: at, trainImgId: 3 }, links);
  assert.equal(note(imp).data.reviewUrl, 'https://host/vigil/review/snapshot/42');
  assert.equal(note(imp).data.employeeUrl, undefined);
  const away = buildAlert('absence', route, { lanId: 'NA\\ada', streamImgId: 43, captureTime: at, streak: 3 }, links);
  assert.equal(note(away).data.reviewUrl, 'https://host/vigil/review/snapshot/43');
  assert.equal(note(away).data.employeeUrl, 'https://host/vigil/employees/NA%5Cada');
  const unknown = buildAlert('unknown_person', route, { lanId: 'x', streamImgId: 44, captureTime: at }, links);
  assert.equal(note(unknown).data.reviewUrl, 'https://host/vigil/review/snapshot/44');
  const plain = buildAlert('absence', route, { lanId: 'x', streamImgId: 45, captureTime: at });
  assert.ok(!('reviewUrl' in note(plain).data) && !('employeeUrl' in note(plain).data));
  assert.equal(note(plain).idempotencyKey, note(buildAlert('absence', route, { lanId: 'x', streamImgId: 45, captureTime: at }, links)).idempotencyKey, 'the link changes no key');
});

test('the email rendered from that alert shows the links; without them the old sentence', async () => {
  const catalog = await loadTemplates();
  const render = (n: Notification & { data: Record<string, unknown> }) => renderMessage(templateFor(catalog, n.template, n.data), n.data);
  const away = buildAlert('absence', route, { lanId: 'NA\\ada', streamImgId: 43, captureTime: at, streak: 3 }, consoleLinks('https://host/vigil'));
  const mail = render(note(away));
  assert.match(mail.text, /^Review it: https:\/\/host\/vigil\/review\/snapshot\/43$/m);
  assert.match(mail.text, /^Employee page: https:\/\/host\/vigil\/employees\/NA%5Cada$/m);
  assert.doesNotMatch(mail.text, /Please review it in Vigil/);
  assert.match(mail.html, /<p>Review it: <a href="https:\/\/host\/vigil\/review\/snapshot\/43">https:\/\/host\/vigil\/review\/snapshot\/43<\/a><\/p>/);
  assert.match(mail.html, /<a href="https:\/\/host\/vigil\/employees\/NA%5Cada">/);
  const old = render(note(buildAlert('impersonation', route, { lanId: 'NA\\ada', streamImgId: 42, captureTime: at })));
  assert.match(old.text, /Please review it in Vigil\./);
  assert.doesNotMatch(old.text + old.html, /Review it:|Employee page:/);
  // A link the html template is given is checked: not http(s), the message is refused.
  assert.throws(() => render({ ...note(away), data: { ...note(away).data, reviewUrl: 'javascript:alert(1)' } }), /TEMPLATE_DATA_INVALID|must be an http/);
});


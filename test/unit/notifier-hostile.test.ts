import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveWebhooks } from '../../services/notifier/recipients.ts';
import { loadTemplates, renderMessage, templateFor } from '../../services/notifier/templates.ts';
import { createTemplateEngine } from '../../shared/templates/engine.ts';
import { CODECS } from '../../shared/contract/messages.ts';
import { isEmailAddress } from '../../shared/contract/email-address.ts';
import { checkEmailAddresses } from '../../services/notifier/recipients.ts';
import { VigilError } from '../../shared/errors.ts';

// Issue 22, the notifier's smaller findings: each case here was let through (or said the
// wrong thing) before.

test('HTML mail: a javascript: (or any non-http(s), non-mailto) link from template data is refused; http(s) and mailto stay links', async () => {
  const templates = await loadTemplates();
  const data = (url: string) => ({ name: 'Ada', title: 'Talk', url, links: { library: url } });
  for (const bad of ['javascript:alert(document.cookie)', ' JavaScript:alert(1)', 'java\tscript:alert(1)', 'data:text/html,<script>x</script>', 'vbscript:x', '//evil.example/x', 'relative/path']) {
    assert.throws(
      () => renderMessage(templateFor(templates, 'video_published', data(bad)), data(bad)),
      (e: VigilError) => e.code === 'TEMPLATE_DATA_INVALID' && e.permanent && /http/.test(e.message),
      JSON.stringify(bad),
    );
  }
  for (const ok of ['https://lib.example/t.mp4?a=1&b=2', 'http://lib.example/t', 'mailto:ada@example.org']) {
    const html = renderMessage(templateFor(templates, 'video_published', data(ok)), data(ok)).html;
    assert.ok(html.includes(`href="${ok.replace(/&/g, '&amp;')}"`), html);
  }
  // Outside an href the same text is only text (escaped), as before.
  assert.equal(createTemplateEngine('html').define('t', '<p><%= it.u %></p>')({ u: 'javascript:x' }), '<p>javascript:x</p>');
  // The text body is not HTML: no link to refuse there.
  assert.equal(createTemplateEngine('text').define('t', '<a href="<%= it.u %>">')({ u: 'javascript:x' }), '<a href="javascript:x">');
});

test('webhook URLs: encoded separators and dot segments are refused; c, c?, c#x are one recipient, sent to the normalised URL', () => {
  const rules = { named: {}, allow: ['https://hooks.example.org/hooks/'] };
  for (const bad of [
    'https://hooks.example.org/hooks/..%2fadmin',
    'https://hooks.example.org/hooks/..%2Fadmin',
    'https://hooks.example.org/hooks/..%5cadmin',
    'https://hooks.example.org/hooks/%2e%2e/admin',
    'https://hooks.example.org/hooks/.%2E/admin',
    'https://hooks.example.org/hooks/./c',
    'https://hooks.example.org/hooks/a\\..\\..\\admin',
  ]) {
    assert.throws(() => resolveWebhooks([bad], rules), (e: VigilError) => e.code === 'WEBHOOK_NOT_ALLOWED' && e.permanent, bad);
  }
  const targets = resolveWebhooks(['https://hooks.example.org/hooks/c', 'https://hooks.example.org/hooks/c?', 'https://hooks.example.org/hooks/c#x', 'HTTPS://HOOKS.example.org:443/hooks/c'], rules);
  assert.deepEqual(targets.map((t) => t.url), ['https://hooks.example.org/hooks/c'], 'one recipient, one rate-limit slot, one POST');
  assert.deepEqual(resolveWebhooks(['https://hooks.example.org/hooks/c?x=1#f'], rules).map((t) => t.url), ['https://hooks.example.org/hooks/c?x=1']);
});

test('a file: (or other non-http) webhook target is refused saying its scheme is not allowed, not "null"', () => {
  const rules = { named: {}, allow: ['https://hooks.example.org/hooks/'] };
  for (const bad of ['file:///etc/passwd', 'gopher://hooks.example.org/hooks/x', 'javascript:alert(1)', 'data:text/plain,x']) {
    assert.throws(
      () => resolveWebhooks([bad], rules),
      (e: VigilError) => e.code === 'WEBHOOK_NOT_ALLOWED' && /scheme/.test(e.message) && /not allowed/.test(e.message) && !/\bnull\b/.test(e.message),
      bad,
    );
  }
});

test('one email address rule: what the upload job schema accepts the notifier sends to, and the other way round', () => {
  const job = (email: string) => Buffer.from(JSON.stringify({ source: { bucket: 'video-mp4', key: 'talk.mp4' }, title: 'T', speakers: [{ name: 'Ada', email }] }));
  const accepted = (email: string) => {
    try {
      CODECS.uploader.parse(job(email));
      return true;
    } catch {
      return false;
    }
  };
  for (const a of ['x@b-.co', 'ada@example.org', 'a.b+tag@mail.example.co.uk', "o'neil@example.com", 'ada@localhost', 'a..b@example.org', 'ada@-example.org', 'ada@exa_mple.org', 'ada@example.123', 'Ada <ada@example.org>']) {
    assert.equal(accepted(a), isEmailAddress(a), `upload job and notifier disagree on ${a}`);
    assert.equal(accepted(a), (() => { try { checkEmailAddresses([a]); return true; } catch { return false; } })(), a);
  }
  assert.equal(accepted('x@b-.co'), false);
});

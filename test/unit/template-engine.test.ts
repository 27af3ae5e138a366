import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TEMPLATE_HELPERS, TemplateSyntaxError, createTemplateEngine, type TemplateMode } from '../../shared/templates/engine.ts';
import type { VigilError } from '../../shared/errors.ts';

// shared/templates/engine.ts: Eta as Vigil sets it up, for the notifier's mails and the
// console's pages. The notifier's own templates are held byte for byte by
// notifier-templates-golden.test.ts.

const r = (tpl: string, data: Record<string, unknown>, mode: TemplateMode = 'text') => createTemplateEngine(mode).define('t', tpl)(data);
const { present, items, entries } = TEMPLATE_HELPERS;

test('template engine: values read from it, HTML-escaped only in html, missing empty, objects as JSON', () => {
  assert.equal(r('Hi <%= it.name %>, <%= it.links?.library %>!', { name: 'Ada', links: { library: 'L' } }), 'Hi Ada, L!');
  assert.equal(r('<%= it.x %>', { x: `<b>"&'` }, 'html'), '&lt;b&gt;&quot;&amp;&#39;');
  assert.equal(r('<%= it.x %>', { x: '<b>&' }, 'text'), '<b>&');
  assert.equal(r('[<%= it.missing %>] [<%= it.a?.b?.c %>] [<%= it.nul %>]', { a: { b: 1 }, nul: null }), '[] [] []');
  assert.equal(r('<%= it.o %>', { o: { k: [1, '<'] } }, 'html'), '{&quot;k&quot;:[1,&quot;&lt;&quot;]}');
  assert.equal(r('<%= it.n %> <%= it.z %>', { n: 0, z: false }), '0 false');
  // Whitespace and newlines around tags are kept as written.
  assert.equal(r('a\n<% if (true) { %>\nb\n<% } %>\n', {}), 'a\n\nb\n\n');
  // `useWith` is off: a bare name is not the data's.
  assert.throws(() => r('<%= name %>', { name: 'x' }), (e: VigilError) => e.code === 'TEMPLATE_DATA_INVALID');
});

test('template engine: data is substituted, never parsed as a template', () => {
  assert.equal(r('<%= it.x %>', { x: '<%= it.secret %>', secret: 'no' }), '<%= it.secret %>');
  assert.equal(r('<%= it.x %>', { x: '${process.exit()}`\'"\\' }), '${process.exit()}`\'"\\');
});

test('template engine: helpers present, items and entries take any data without throwing', () => {
  for (const v of [undefined, null, '', false, [], {}]) assert.equal(present(v), false, JSON.stringify(v));
  for (const v of [0, 'x', true, [0], { a: undefined }]) assert.equal(present(v), true, JSON.stringify(v));
  for (const v of ['abc', 3, null, undefined, { 0: 'a', length: 1 }]) assert.deepEqual(items(v), [], JSON.stringify(v));
  assert.deepEqual(items([1, null]), [1, null]);
  for (const v of ['abc', [['a', 1]], null, 7]) assert.deepEqual(entries(v), [], JSON.stringify(v));
  assert.deepEqual(entries({ B: 1, a: 2 }), [['B', 1], ['a', 2]]);
  const list = '<% for (const q of items(it.qs)) { %><li><%= q?.queue %>=<%= q?.count %></li><% } %>';
  assert.equal(r(list, { qs: [{ queue: '<a>', count: 2 }, null, 'x'] }, 'html'), '<li>&lt;a&gt;=2</li><li>=</li><li>=</li>');
  assert.equal(r(list, { qs: { queue: 'a' } }, 'html'), '');
});

test('template engine: a link target in HTML must be http(s) or mailto, with either quote; text and other attributes are not links', () => {
  const html = createTemplateEngine('html');
  const t = html.define('links', `<a href="<%= it.u %>">x</a><img src='<%= it.u %>'><form action=<%= it.u %>></form>`);
  assert.equal(t({ u: 'https://a.example/?x=1&y=2' }), `<a href="https://a.example/?x=1&amp;y=2">x</a><img src='https://a.example/?x=1&amp;y=2'><form action=https://a.example/?x=1&amp;y=2></form>`);
  for (const bad of ['javascript:alert(1)', ' https://a.example/', 'data:text/html,x', '//evil.example', '', undefined, 42, { toString: 'https://x' }]) {
    assert.throws(() => t({ u: bad }), (e: VigilError) => e.code === 'TEMPLATE_DATA_INVALID' && e.permanent && /data u is a link/.test(e.message), JSON.stringify(bad));
  }
  assert.equal(html.define('title', '<p title="<%= it.u %>">')({ u: 'javascript:x' }), '<p title="javascript:x">');
  assert.equal(r('<a href="<%= it.u %>">', { u: 'javascript:x' }, 'text'), '<a href="javascript:x">');
});

test('template engine: raw output in HTML is refused except include(), which reaches only templates defined on the engine', () => {
  assert.throws(() => createTemplateEngine('html').define('t', '<p><%~ it.x %></p>'), TemplateSyntaxError);
  const html = createTemplateEngine('html');
  html.define('item', '<li><%= it.x %></li>');
  assert.equal(html.define('page', `<ul><%~ include('@item', { x: it.a }) %></ul>`)({ a: '<b>' }), '<ul><li>&lt;b&gt;</li></ul>');
  // No file access: a path is not a template, whatever it names.
  for (const path of ['/etc/passwd', '../../package.json', 'item']) {
    assert.throws(() => html.define(`p-${path}`, `<%~ include(${JSON.stringify(path)}) %>`)({}), (e: VigilError) => e.code === 'TEMPLATE_DATA_INVALID', path);
  }
  // In text, raw and escaped output are the same.
  assert.equal(r('<%~ it.x %>', { x: '<b>' }), '<b>');
});

test('template engine: broken templates are refused when defined', () => {
  for (const bad of ['<% if (it.a) { %>x', '<% } %>', '<%= it.a', '<%= ) %>', '<% for (const q of) { %><% } %>', "<%= 'unclosed %>"]) {
    for (const mode of ['text', 'html'] as const) assert.throws(() => createTemplateEngine(mode).define('bad', bad), TemplateSyntaxError, `${mode}: ${bad}`);
  }
});

test('template engine: data a template cannot render is a permanent TEMPLATE_DATA_INVALID naming the template, not a crash to retry', () => {
  const t = createTemplateEngine('html').define('crash', '<%= it.a.b %>');
  assert.throws(() => t({}), (e: VigilError) => e.code === 'TEMPLATE_DATA_INVALID' && e.permanent && /template crash/.test(e.message));
});

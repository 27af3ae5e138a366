// The console's audit log page (issue 28): filters, keyset paging over the real MariaDB with
// no repeats or gaps, team leads only, read only, every value escaped; and the index each
// filter reads (EXPLAIN).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { sql } from 'kysely';
import { auditQuery, writeAudit, type AuditFilter } from '../../db/repositories/audit.repository.ts';
import { createLogger } from '../../shared/logger.ts';
import { buildConsoleApp } from '../../services/console/app.ts';
import { addConsoleAccounts, consoleClient, INLINE_CODE, type ConsoleClient, type SignedIn } from '../helpers/console-client.ts';
import { assertKeysetPlan } from '../helpers/explain.ts';
import { createTestEnv, type TestEnv } from '../helpers/test-env.ts';

const XSS = '<script>alert(1)</script>';
/** Far from today, so the sign-ins of the test accounts (written now) are never among these. */
const T0 = Date.parse('2026-06-01T00:00:00.000Z');
let t: TestEnv;
let app: FastifyInstance;
let c: ConsoleClient;
let supervisor: SignedIn;
let lead: SignedIn;
const db = () => t.database().db;

/** The audit row ids a page lists, in order. */
const idsOf = (r: LightMyRequestResponse) => [...r.body.matchAll(/<tr id="audit-(\d+)">/g)].map((m) => Number(m[1]));
const olderOf = (r: LightMyRequestResponse) => /<a rel="next" href="([^"]+)">/.exec(r.body)?.[1]?.replaceAll('&amp;', '&');

/** Every page from `url` on, following "Older". */
async function allPages(url: string): Promise<{ ids: number[]; pages: number }> {
  const ids: number[] = [];
  let next: string | undefined = url;
  let pages = 0;
  while (next !== undefined) {
    const r = await c.get(next, lead);
    assert.equal(r.statusCode, 200, r.body);
    ids.push(...idsOf(r));
    next = olderOf(r);
    pages++;
  }
  return { ids, pages };
}

/** The ids the table holds for a filter, newest first: what the pages must add up to. */
async function expected(f: { actor?: string; action?: string; lanId?: string; from?: Date; to?: Date }): Promise<number[]> {
  let q = db().selectFrom('audit_log').select('id');
  if (f.actor) q = q.where('actor', '=', f.actor);
  if (f.action) q = q.where('action', '=', f.action);
  if (f.lanId) q = q.where('lan_id', '=', f.lanId);
  if (f.from) q = q.where('at', '>=', f.from);
  if (f.to) q = q.where('at', '<', f.to);
  return (await q.orderBy('at', 'desc').orderBy('id', 'desc').execute()).map((r) => Number(r.id));
}

before(async () => {
  t = await createTestEnv('consoleaudit');
  await addConsoleAccounts(db(), [['vera', 'viewer'], ['sam', 'supervisor'], ['tess', 'teamlead']]);
  app = await buildConsoleApp({ db: db(), config: t.config.console, logger: createLogger({ level: 'silent' }) });
  await app.ready();
  c = consoleClient(app, '10.47.0.');
  supervisor = await c.signIn('sam');
  lead = await c.signIn('tess');
  // 150 rows over 50 minutes, three in each minute (times tie, so the id decides), and rows
  // written out of time order (an id greater than a later row's).
  const actions = ['gallery.approve', 'gallery.reject', 'console.signin'];
  for (let i = 0; i < 150; i++) {
    await writeAudit(db(), {
      actor: i % 2 === 0 ? 'ann' : 'ben', action: actions[i % 3]!, lanId: i % 5 === 0 ? 'carol' : `emp${i % 7}`, subject: `proposal:${i}`,
      before: i % 4 === 0 ? { status: 'pending' } : undefined, after: { status: 'approved', reason: `row ${i}`, faces: [i, i + 1] },
    });
  }
  const rows = await db().selectFrom('audit_log').select('id').where('actor', 'in', ['ann', 'ben']).orderBy('id').execute();
  for (const [i, r] of rows.entries()) {
    // `at` is the database's to write (never updated by Vigil), so set here in SQL.
    await sql`UPDATE audit_log SET at = ${new Date(T0 + Math.floor((149 - i) / 3) * 60_000)} WHERE id = ${r.id}`.execute(db());
  }
  await writeAudit(db(), { actor: XSS, action: XSS, lanId: XSS, subject: XSS, before: { [XSS]: XSS }, after: { note: XSS } });
  await sql`UPDATE audit_log SET at = ${new Date(T0 - 86_400_000)} WHERE actor = ${XSS}`.execute(db());
});

after(async () => {
  await app?.close();
  await t.cleanup();
});

test('the log pages newest first, 50 a page, by a cursor: every row once, in order, without repeats or gaps', async () => {
  const want = await expected({});
  assert.ok(want.length >= 150 + 1 + 2, 'the rows above, the hostile one and the sign-ins');
  const { ids, pages } = await allPages('/audit');
  assert.deepEqual(ids, want);
  assert.equal(pages, Math.ceil(want.length / 50));
  // Rows written after the first page was read do not shift the next one.
  const first = await c.get('/audit', lead);
  const older = olderOf(first)!;
  assert.match(older, /^\/audit\?before=\d+\.\d+$/);
  await writeAudit(db(), { actor: 'late', action: 'gallery.approve' });
  assert.deepEqual(idsOf(await c.get(older, lead)), want.slice(50, 100));
});

test('the filters narrow the log, keep their values on the next page, and a bad value answers 400 saying why', async () => {
  for (const [q, f] of [
    ['actor=ann', { actor: 'ann' }],
    ['action=gallery.reject', { action: 'gallery.reject' }],
    ['lan_id=carol', { lanId: 'carol' }],
    ['actor=ben&action=console.signin&lan_id=emp3', { actor: 'ben', action: 'console.signin', lanId: 'emp3' }],
    [`from=${encodeURIComponent(new Date(T0 + 10 * 60_000).toISOString())}&to=${encodeURIComponent(new Date(T0 + 30 * 60_000).toISOString())}`, { from: new Date(T0 + 10 * 60_000), to: new Date(T0 + 30 * 60_000) }],
    ['actor=ann&from=2026-06-01&to=2026-06-01', { actor: 'ann', from: new Date(T0), to: new Date(T0 + 86_400_000) }],
  ] as const) {
    const want = await expected(f);
    assert.ok(want.length > 0, q);
    const { ids } = await allPages(`/audit?${q}`);
    assert.deepEqual(ids, want, q);
  }
  const anns = await c.get('/audit?actor=ann', lead);
  assert.match(olderOf(anns)!, /actor=ann&before=/);
  assert.match(anns.body, /<input name="actor" value="ann">/);

  for (const [q, says] of [
    ['from=yesterday', /from must be a date/], ['to=2026-02-30', /to must be a date/], ['from=2026-06-02&to=2026-06-01', /from must be before to/],
    ['before=1;DROP', /before must be a cursor/], ['actor=a&actor=b', /actor must be/], [`lan_id=${'x'.repeat(129)}`, /lan_id must be/],
  ] as const) {
    const r = await c.get(`/audit?${q}`, lead);
    assert.equal(r.statusCode, 400, q);
    assert.match(r.body, says, q);
  }
});

test('details read as key: value lists, and a hostile actor, action, lan_id, subject or detail is text, never markup', async () => {
  const ann = await c.get('/audit?actor=ann', lead);
  assert.match(ann.body, /<dt>status<\/dt><dd>approved<\/dd><dt>reason<\/dt><dd>row \d+<\/dd><dt>faces<\/dt><dd>\[\d+,\d+\]<\/dd>/);
  const r = await c.get(`/audit?lan_id=${encodeURIComponent(XSS)}`, lead);
  assert.equal(r.statusCode, 200);
  assert.equal(idsOf(r).length, 1);
  assert.ok(!r.body.includes(XSS));
  assert.doesNotMatch(r.body, INLINE_CODE);
  assert.ok(r.body.split('&lt;script&gt;alert(1)&lt;/script&gt;').length - 1 >= 7, 'actor, action, lan_id, subject, the detail key and values, and the filter field');
});

test('team leads only: a supervisor gets 403, no session a sign-in or 401; read only (no POST)', async () => {
  assert.equal((await c.get('/audit', supervisor)).statusCode, 403);
  const viewer = await c.signIn('vera');
  assert.equal((await c.get('/audit', viewer)).statusCode, 403);
  const anon = await c.get('/audit', null);
  assert.equal(anon.statusCode, 303);
  assert.match(String(anon.headers.location), /^\/login\?next=%2Faudit/);
  assert.equal((await c.get('/audit', null, 'application/json')).statusCode, 401);
  const admin = await c.post('/audit', lead, { actor: 'x' });
  assert.equal(admin.statusCode, 404, 'no route changes the log');
  assert.doesNotMatch((await c.get('/audit', lead)).body, /method="post" action="\/audit/);
});

test('each filter reads an index in (at, id) order from its cursor, without a filesort (EXPLAIN over 20,000 rows)', async () => {
  await sql`INSERT INTO audit_log (at, actor, action, lan_id, subject)
    SELECT TIMESTAMP '2025-01-01 00:00:00' + INTERVAL seq MINUTE, CONCAT('user', seq % 40), ELT(1 + seq % 4, 'gallery.approve', 'console.signin', 'gallery.reject', 'users.add'),
      CONCAT('bulk', seq % 300), 'x'
    FROM seq_1_to_20000`.execute(db());
  await sql`ANALYZE TABLE audit_log`.execute(db());
  const before = { at: new Date('2025-01-10T00:00:00Z'), id: 10_000_000 };
  const span = { from: new Date('2025-01-02T00:00:00Z'), to: new Date('2025-01-05T00:00:00Z') };
  for (const [filter, keys] of [
    [{ limit: 51 }, /^audit_log_at$/],
    [{ before, limit: 51 }, /^audit_log_at$/],
    [{ ...span, limit: 51 }, /^audit_log_at$/],
    [{ actor: 'user7', before, limit: 51 }, /^audit_log_actor_at$/],
    [{ actor: 'user7', ...span, before, limit: 51 }, /^audit_log_actor_at$/],
    [{ lanId: 'bulk7', ...span, limit: 51 }, /^audit_log_lan_at$/],
    [{ action: 'users.add', before, limit: 51 }, /^audit_log_action_at$/],
  ] as [AuditFilter, RegExp][]) {
    await assertKeysetPlan(db(), auditQuery(db(), filter).compile(), keys, filter);
  }
});

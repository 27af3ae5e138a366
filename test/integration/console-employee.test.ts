// The console's employee pages (issue 28, page 3; CONTRACT.md's deep link `/employees/<lan_id>`):
// the list by lan_id prefix with keyset paging, and an employee's page (the gallery with
// where each face came from and who decided, removal with undo, the threshold with its
// suggestion, the results per day as an SVG chart, the alerts, and deleting the employee),
// through `app.inject` on the real MariaDB.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { sql } from 'kysely';
import { openDatabase, parseDatabaseUrl, type DatabaseHandle } from '../../db/connection.ts';
import { encodeDescriptor } from '../../db/descriptor.ts';
import { writeAudit } from '../../db/repositories/audit.repository.ts';
import type { ResultCode } from '../../shared/contract/result-codes.ts';
import { thresholdBounds } from '../../shared/gallery/threshold.ts';
import { createLockManager } from '../../shared/lock.ts';
import { createLogger } from '../../shared/logger.ts';
import { buildConsoleApp } from '../../services/console/app.ts';
import { addConsoleAccounts, consoleClient, INLINE_CODE, type ConsoleClient, type SignedIn } from '../helpers/console-client.ts';
import { createTestEnv, type TestEnv } from '../helpers/test-env.ts';

const JPEG = readFileSync(new URL('../fixtures/faces/img5.jpg', import.meta.url));
const ENROLMENT = readFileSync(new URL('../fixtures/faces/img16.jpg', import.meta.url));
/** A backslash, a space and accents: the path carries it URL-encoded. */
const LAN = 'NA\\Zoë Ådam';
/** The same person to the database (letter case), another spelling in the rows. */
const LAN_UPPER = 'na\\ZOË ÅDAM';
/** Another person: accents tell people apart. */
const OTHER = 'NA\\Zoe Adam';
const XSS = '<script>alert(1)</script>';
const NOW = new Date('2026-12-07T12:00:00.000Z');
const path = (lanId: string) => `/employees/${encodeURIComponent(lanId)}`;

let t: TestEnv;
let lockDb: DatabaseHandle;
let app: FastifyInstance;
let c: ConsoleClient;
let viewer: SignedIn;
let supervisor: SignedIn;
let teamlead: SignedIn;
let admin: SignedIn;
/** The producer's enrolment, the face from an approved snapshot, and the face already removed. */
let enrolled: number;
let approved: number;
let removedFace: number;
let snapshot: number;
let proposalId: number;
let alertIds: number[];

const db = () => t.database().db;

/** A 128-float descriptor: 1 on axis 0, plus `d` on `axis`. */
const descriptor = (d = 0, axis = 1) => {
  const v = new Float32Array(128);
  v[0] = 1;
  v[axis] = (v[axis] ?? 0) + d;
  return encodeDescriptor(v);
};

async function galleryFace(lanId: string, desc: Buffer): Promise<number> {
  const id = Number((await db().insertInto('train_img').values({ lan_id: lanId, image: ENROLMENT, status: 'Y', result: 'SUCCESS', capture_time: new Date('2026-11-01T00:00:00Z') }).executeTakeFirstOrThrow()).insertId);
  await db().insertInto('face_descriptor').values({ train_img_id: id, lan_id: lanId, model: 'm', descriptor: desc, box: '{}', score: 0.99, quality: '{}' }).execute();
  return id;
}

async function snap(lanId: string, at: string, result: ResultCode | null, extra: { image?: Buffer; face?: Buffer } = {}): Promise<number> {
  const id = Number((await db().insertInto('stream_img').values({
    lan_id: lanId, capture_time: new Date(at), status: result === null ? 'N' : 'Y', result, image: extra.image ?? null,
  }).executeTakeFirstOrThrow()).insertId);
  if (extra.face) await db().insertInto('stream_face').values({ stream_img_id: id, face_index: 0, lan_id: lanId, box: '{"x":1,"y":1,"width":9,"height":9}', score: 0.9, landmarks: null, quality: null, model: 'm', descriptor: extra.face }).execute();
  return id;
}

/** Counts of the rows of `lanId` under the identity rule. */
async function rowsOf(lanId: string) {
  const n = async (table: 'train_img' | 'stream_img' | 'face_alert' | 'face_descriptor') => Number((await db().selectFrom(table).select(sql<number>`COUNT(*)`.as('n')).where('lan_id', '=', lanId).executeTakeFirstOrThrow()).n);
  return { train: await n('train_img'), stream: await n('stream_img'), alerts: await n('face_alert'), descriptors: await n('face_descriptor') };
}

const idsIn = (r: LightMyRequestResponse, re: RegExp) => [...r.body.matchAll(re)].map((m) => m[1]!);

before(async () => {
  t = await createTestEnv('consoleemployee');
  await addConsoleAccounts(db(), [['vera', 'viewer'], ['sam', 'supervisor'], ['tess', 'teamlead'], ['ada', 'admin']]);
  lockDb = openDatabase(t.config.database.url, { poolSize: 2 });
  const locks = createLockManager({ db: lockDb.db, namespace: parseDatabaseUrl(t.config.database.url).database });
  app = await buildConsoleApp({ db: db(), config: t.config.console, logger: createLogger({ level: 'silent' }), face: t.config.face, locks, now: () => NOW });
  await app.ready();
  c = consoleClient(app, '10.28.3.');
  [viewer, supervisor, teamlead, admin] = [await c.signIn('vera'), await c.signIn('sam'), await c.signIn('tess'), await c.signIn('ada')];

  // The gallery: a producer's enrolment, a face removed, and a face from an approved snapshot (newest).
  enrolled = await galleryFace(LAN, descriptor());
  removedFace = await galleryFace(LAN, descriptor(0.3, 3));
  await db().insertInto('gallery_removal').values({ train_img_id: removedFace, lan_id: LAN, removed_by: 'tess', reason: 'a blurry <b>photo</b>' }).execute();
  snapshot = await snap(LAN, '2026-11-20T09:00:00Z', 'UNKNOWN_PERSON', { image: JPEG, face: descriptor(0.05, 2) });
  approved = await galleryFace(LAN, descriptor(0.05, 2));
  proposalId = Number((await db().insertInto('gallery_proposal').values({
    lan_id: LAN, stream_img_id: snapshot, face_index: 0, proposed_by: 'sam', status: 'approved', decided_by: 'tess', decided_at: new Date(), train_img_id: approved,
  }).executeTakeFirstOrThrow()).insertId);
  await writeAudit(db(), { actor: 'sam', action: 'gallery.propose', lanId: LAN, subject: `proposal:${proposalId}` });
  await writeAudit(db(), { actor: 'tess', action: 'gallery.approve', lanId: LAN, subject: `proposal:${proposalId}`, after: { status: 'approved', trainImgId: approved } });

  // Results: 12-07 has 22 matches (each with its face, for the suggestion) and 1 unknown, and one not yet judged;
  // 12-05 two impersonations, a faceless one, an invalid image and a match under another spelling; 10-28 is outside 30 days.
  for (let i = 0; i < 22; i++) await snap(LAN, `2026-12-07T0${Math.floor(i / 6)}:${String(10 + i).padStart(2, '0')}:00Z`, 'SUCCESS', { face: descriptor(0.1 + i * 0.005) });
  const unknown = await snap(LAN, '2026-12-07T11:00:00Z', 'UNKNOWN_PERSON', { face: descriptor(0.5) });
  await snap(LAN, '2026-12-07T11:30:00Z', null);
  const imp1 = await snap(LAN, '2026-12-05T08:00:00Z', 'IMPERSONATION_SUSPECTED');
  const imp2 = await snap(LAN, '2026-12-05T08:01:00Z', 'IMPERSONATION_SUSPECTED');
  await snap(LAN, '2026-12-05T09:00:00Z', 'NO_FACES_FOUND');
  await snap(LAN, '2026-12-05T10:00:00Z', 'INVALID_IMAGE');
  await snap(LAN_UPPER, '2026-12-05T23:59:59.999Z', 'SUCCESS_MULTIPLE_FACES');
  for (let i = 0; i < 5; i++) await snap(LAN, `2026-10-28T10:0${i}:00Z`, 'SUCCESS');
  for (let i = 0; i < 4; i++) await snap(OTHER, `2026-12-07T10:0${i}:00Z`, 'UNKNOWN_PERSON');
  await galleryFace(OTHER, descriptor(0.9, 5));
  // A supervisor said the unknown face is not the employee: the suggestion tightens below it (distance 0.5).
  await db().insertInto('not_this_face').values({ lan_id: LAN, stream_img_id: unknown, face_index: 0, model: 'm', descriptor: descriptor(0.5), recorded_by: 'sam' }).execute();

  alertIds = [];
  for (const [sid, kind, at] of [[unknown, 'unknown_person', '2026-12-07T11:00:05Z'], [imp1, 'impersonation', '2026-12-05T08:00:05Z'], [imp2, 'impersonation', '2026-12-05T08:01:05Z']] as const) {
    alertIds.push(Number((await db().insertInto('face_alert').values({ lan_id: LAN, stream_img_id: sid, kind, state: 'published', notification: '{}', created_at: new Date(at) }).executeTakeFirstOrThrow()).insertId));
  }
  const otherSnap = await snap(OTHER, '2026-12-07T10:30:00Z', 'UNKNOWN_PERSON');
  await db().insertInto('face_alert').values({ lan_id: OTHER, stream_img_id: otherSnap, kind: 'unknown_person', state: 'published', notification: '{}' }).execute();

  await db().insertInto('train_img').values({ lan_id: XSS, status: 'Y', result: 'SUCCESS' }).execute();
});

after(async () => {
  await app?.close();
  await lockDb?.close();
  await t.cleanup();
});

test('the list searches lan_ids by prefix (case-insensitive, a backslash and LIKE wildcards taken literally) and pages by keyset, 50 at a time', async () => {
  const bulk = Array.from({ length: 120 }, (_, i) => `NA\\bulk${String(i).padStart(3, '0')}`);
  // Two enrolments each, one of them under another letter case: still one employee in the list.
  await db().insertInto('train_img').values(bulk.flatMap((lanId, i) => [{ lan_id: lanId, status: 'N' as const }, { lan_id: i % 7 === 0 ? lanId.toUpperCase() : lanId, status: 'Y' as const }])).execute();
  const seen: string[] = [];
  let url: string | undefined = `/employees?prefix=${encodeURIComponent('na\\BULK')}`;
  let pages = 0;
  while (url !== undefined) {
    const r = await c.get(url, viewer);
    assert.equal(r.statusCode, 200, r.body);
    assert.doesNotMatch(r.body, INLINE_CODE);
    const names = idsIn(r, /<li><a href="\/employees\/([^"]+)">/g).map((p) => decodeURIComponent(p));
    assert.ok(names.length <= 50);
    seen.push(...names);
    url = /<a rel="next" href="([^"]+)">/.exec(r.body)?.[1]?.replaceAll('&amp;', '&');
    pages++;
  }
  assert.equal(pages, 3);
  assert.equal(seen.length, 120);
  assert.deepEqual(seen.map((s) => s.toLowerCase()), bulk.map((s) => s.toLowerCase()), 'in order, each once, no repeat or gap');

  const zoe = await c.get(`/employees?prefix=${encodeURIComponent('na\\zo')}`, viewer);
  assert.deepEqual(idsIn(zoe, /<li><a href="\/employees\/([^"]+)">/g).map((p) => decodeURIComponent(p)).sort(), [LAN, OTHER].sort(), 'Zoë and Zoe both start with zo');
  assert.equal(idsIn(await c.get(`/employees?prefix=${encodeURIComponent('na\\zoë')}`, viewer), /<li><a href="\/employees\/([^"]+)">/g).length, 1, 'accents count');
  for (const literal of ['NA\\bulk%', 'NA\\bulk_', 'NA!', 'NA\\\\']) {
    const r = await c.get(`/employees?prefix=${encodeURIComponent(literal)}`, viewer);
    assert.equal(r.statusCode, 200);
    assert.match(r.body, /No employee's lan_id starts so/, literal);
  }
  const all = await c.get('/employees', viewer);
  assert.ok(all.body.includes('&lt;script&gt;alert(1)&lt;/script&gt;'));
  assert.ok(!all.body.includes(XSS));
  for (const bad of ['prefix=a%00b', `prefix=${'x'.repeat(65)}`, 'after=', 'prefix=a&prefix=b']) {
    assert.equal((await c.get(`/employees?${bad}`, viewer)).statusCode, 400, bad);
  }
  assert.equal((await c.get('/employees', null)).statusCode, 303, 'no session: to the sign-in');
});

test("the page shows the gallery with each face's provenance and who decided, the removed faces apart, the threshold with its suggestion, and the alerts", async () => {
  const r = await c.get(path(LAN), viewer);
  assert.equal(r.statusCode, 200, r.body);
  assert.doesNotMatch(r.body, INLINE_CODE);
  assert.ok(r.body.includes('<h1>Employee NA\\Zoë Ådam</h1>'));
  // Active faces newest first: the approved snapshot's, then the producer's enrolment.
  assert.deepEqual(idsIn(r, /<img class="thumb" src="\/images\/enrolment\/(\d+)\?thumb=1" alt="gallery face/g).map(Number), [approved, enrolled]);
  const approvalAt = (await db().selectFrom('gallery_proposal').select('decided_at').where('status', '=', 'approved').executeTakeFirstOrThrow()).decided_at!.toISOString();
  const proposedAt = (await db().selectFrom('gallery_proposal').select('proposed_at').where('id', '=', proposalId).executeTakeFirstOrThrow()).proposed_at.toISOString();
  assert.ok(r.body.includes(`From an approved snapshot: <a href="/review/snapshot/${snapshot}">snapshot ${snapshot}</a>.`), 'the snapshot it came from, linked');
  assert.ok(r.body.includes(`Proposed by sam at ${proposedAt}; approved by tess at ${approvalAt}.`));
  assert.match(r.body, /Producer enrolment, accepted by facetraining at \d{4}-/);
  assert.ok(r.body.includes(`<strong>Face ${removedFace}</strong>, removed by tess at `));
  assert.ok(r.body.includes('a blurry &lt;b&gt;photo&lt;/b&gt;'));
  assert.ok(!r.body.includes('<b>photo</b>'));
  assert.ok(r.body.includes(`alt="removed face ${removedFace}"`));

  // The threshold: the site's, none of the employee's own, and the suggestion with its numbers.
  const site = t.config.face.matchThreshold;
  assert.ok(r.body.includes(`<dt>Site threshold</dt><dd>${site.toFixed(3)} (FACE_MATCH_THRESHOLD)</dd>`));
  assert.match(r.body, /none: the site threshold applies/);
  assert.ok(site > 0.49, 'the suggestion below assumes the default site threshold');
  assert.ok(r.body.includes('<strong>0.490</strong>: just under the nearest face said not to be this employee (0.5)'), r.body.slice(r.body.indexOf('Suggested'), r.body.indexOf('Suggested') + 300));
  assert.ok(r.body.includes('The suggestion weighs 22 recent matched snapshot(s) of theirs, re-scored against the gallery as it is (99th percentile distance 0.205), against 1 face(s) supervisors said are not them (the nearest at 0.500). It turns every one of those faces away and would reject 0.0% of'));

  // The alerts, newest first, each linking to its snapshot; another person's are not listed.
  const alertSnaps = idsIn(r, /<td><a href="\/review\/snapshot\/(\d+)">snapshot \d+<\/a><\/td><\/tr>/g).map(Number);
  const expected = (await db().selectFrom('face_alert').select('stream_img_id').where('id', 'in', alertIds).orderBy('created_at', 'desc').execute()).map((a) => Number(a.stream_img_id));
  assert.deepEqual(alertSnaps, expected);
  assert.match(r.body, /<td>2026-12-07T11:00:05\.000Z<\/td><td>unknown_person<\/td><td>published<\/td>/);

  // A viewer reads: no form that changes anything.
  assert.doesNotMatch(r.body, /method="post" action="\/employees/);
  const lead = await c.get(path(LAN), teamlead);
  assert.ok(lead.body.includes(`action="${path(LAN)}/gallery/${approved}/remove"`));
  assert.ok(lead.body.includes(`action="${path(LAN)}/gallery/${removedFace}/restore"`));
  assert.ok(lead.body.includes(`action="${path(LAN)}/threshold"`));
  const [min, max] = [thresholdBounds(site).min, thresholdBounds(site).max];
  assert.ok(lead.body.includes(`Own threshold (${min}–${max})`));
  assert.doesNotMatch(lead.body, /\/delete"/, 'deleting is for an admin');
  const adminPage = await c.get(path(LAN), admin);
  assert.ok(adminPage.body.includes(`<form method="post" action="${path(LAN)}/delete">`));
});

test('the chart stacks each day by result group, from one count per day and result: bars, titles and the table match the snapshots inserted', async () => {
  const r = await c.get(path(LAN), viewer);
  const bar = (day: string) => new RegExp(`<g class="bar" data-day="${day}"><title>([^<]*)</title>\\n<rect class="hit"[^>]*></rect>\\n((?:<rect class="seg[^>]*></rect>\\n)*)</g>`).exec(r.body);
  const dec = bar('2026-12-07');
  assert.ok(dec, 'a bar for today');
  assert.equal(dec[1], '2026-12-07: 23 snapshots (22 success, 1 unknown person)', 'the unjudged one is not counted, nor another person');
  assert.deepEqual([...dec[2]!.matchAll(/class="seg seg-([a-z-]+)"[^>]*data-count="(\d+)"/g)].map((m) => [m[1], Number(m[2])]), [['success', 22], ['unknown', 1]]);
  const dec5 = bar('2026-12-05')!;
  assert.equal(dec5[1], '2026-12-05: 5 snapshots (1 success, 2 impersonation suspected, 1 no face, 1 other)', 'the other spelling is the same person');
  assert.deepEqual([...dec5[2]!.matchAll(/class="seg seg-([a-z-]+)"[^>]*data-count="(\d+)"/g)].map((m) => [m[1], Number(m[2])]), [['success', 1], ['impersonation', 2], ['no-face', 1], ['other', 1]]);
  assert.equal(bar('2026-12-06')![1], '2026-12-06: no snapshot judged');
  assert.equal([...r.body.matchAll(/<g class="bar" data-day=/g)].length, 30, 'the last 30 days');
  assert.ok(bar('2026-11-08') && !bar('2026-11-07'), 'from 2026-11-08 to today');
  assert.ok(r.body.includes('<svg class="results-chart" viewBox="0 0 720 240" role="img" aria-labelledby="chart-title">'));
  assert.ok(r.body.includes('the last 30 days: 29 judged</title>'));
  // 23 at most: the count axis steps by 10 up to 30.
  assert.deepEqual(idsIn(r, /<text class="tick" x="\d+" y="[\d.]+" dy="0.32em" text-anchor="end">(\d+)<\/text>/g), ['0', '10', '20', '30']);
  assert.match(r.body, /<text class="tick" x="[\d.]+" y="228" text-anchor="middle">12-07<\/text>/);
  // The table equivalent.
  assert.ok(r.body.includes('<tr><td>2026-12-07</td><td>22</td><td>1</td><td>0</td><td>0</td><td>0</td><td>23</td></tr>'));
  assert.ok(r.body.includes('<tr><td>2026-12-05</td><td>1</td><td>0</td><td>2</td><td>1</td><td>1</td><td>5</td></tr>'));
  assert.match(r.body, /<details>\n<summary>The numbers per day<\/summary>/);

  const year = await c.get(`${path(LAN)}?days=365`, viewer);
  assert.equal(year.statusCode, 200);
  assert.equal([...year.body.matchAll(/<g class="bar" data-day=/g)].length, 365);
  assert.ok(year.body.includes('<tr><td>2026-10-28</td><td>5</td><td>0</td><td>0</td><td>0</td><td>0</td><td>5</td></tr>'), 'the window takes in 10-28');
  assert.equal([...(await c.get(`${path(LAN)}?days=7`, viewer)).body.matchAll(/<g class="bar" data-day=/g)].length, 7);
  for (const bad of ['6', '366', 'abc', '30.5', '-7']) {
    const b = await c.get(`${path(LAN)}?days=${bad}`, viewer);
    assert.equal(b.statusCode, 400, bad);
    assert.match(b.body, /days must be a whole number from 7 to 365/);
  }
});

test('the lan_id travels URL-encoded: another letter case finds the person, an unknown or unusable one is a 404 page, a hostile one is text', async () => {
  assert.equal((await c.get(path(LAN_UPPER), viewer)).statusCode, 200, 'the identity rule: letter case does not matter');
  // The longest lan_id there is: 64 characters of 4 UTF-8 bytes, 768 characters in the path.
  const longest = '\u{1d4b5}'.repeat(64);
  await db().insertInto('train_img').values({ lan_id: longest, status: 'Y', result: 'SUCCESS' }).execute();
  assert.equal(path(longest).length, '/employees/'.length + 768);
  const long = await c.get(path(longest), viewer);
  assert.equal(long.statusCode, 200);
  assert.ok(long.body.includes(`<h1>Employee ${longest}</h1>`));
  for (const unknown of ['NA\\nobody', 'NA\\Zoë Ådam ', 'NA/Zoë Ådam']) {
    const r = await c.get(path(unknown), viewer);
    assert.equal(r.statusCode, 404, unknown);
    assert.match(r.body, /<h1>Unknown employee<\/h1>/);
    assert.doesNotMatch(r.body, INLINE_CODE);
  }
  for (const bad of [`/employees/${'x'.repeat(65)}`, '/employees/a%0Ab', '/employees/%E0%A4%A']) {
    const r = await c.get(bad, viewer);
    assert.ok(r.statusCode === 404 || r.statusCode === 400, `${bad}: ${r.statusCode}`);
  }
  const hostile = await c.get(path(XSS), viewer);
  assert.equal(hostile.statusCode, 200);
  assert.ok(!hostile.body.includes(XSS));
  assert.ok(hostile.body.includes('<h1>Employee &lt;script&gt;alert(1)&lt;/script&gt;</h1>'));
  assert.doesNotMatch(hostile.body, INLINE_CODE);
  const unknownHostile = await c.get(path(`${XSS}x`), viewer);
  assert.equal(unknownHostile.statusCode, 404);
  assert.ok(!unknownHostile.body.includes(XSS));
  const none = await c.get(path(LAN), null);
  assert.equal(none.statusCode, 303);
  assert.match(String(none.headers.location), /^\/login\?next=/);
});

test('remove with undo: a team lead takes a face out (303 back with an Undo button) and puts it back; a supervisor is refused, a post without its CSRF token too', async () => {
  const remove = `${path(LAN)}/gallery/${enrolled}/remove`;
  assert.equal((await c.post(remove, supervisor, { reason: 'x' })).statusCode, 403);
  assert.equal((await c.post(remove, teamlead, { reason: 'x' }, null)).statusCode, 403, 'no CSRF token');
  assert.equal((await c.post(remove, teamlead, { reason: 'x' }, viewer.csrf)).statusCode, 403, "another session's token");
  assert.equal((await db().selectFrom('gallery_removal').select('train_img_id').where('train_img_id', '=', enrolled).execute()).length, 0);

  const r = await c.post(remove, teamlead, { reason: 'glasses', by: 'someone-else' });
  assert.equal(r.statusCode, 303, r.body);
  assert.equal(r.headers.location, `${path(LAN)}?removed=${enrolled}`);
  const row = await db().selectFrom('gallery_removal').selectAll().where('train_img_id', '=', enrolled).executeTakeFirstOrThrow();
  assert.deepEqual([row.removed_by, row.reason], ['tess', 'glasses']);
  const page = await c.get(String(r.headers.location), teamlead);
  assert.match(page.body, new RegExp(`Face ${enrolled} \\(train_img\\) is out of the gallery`));
  const undo = `${path(LAN)}/gallery/${enrolled}/restore`;
  assert.ok(page.body.includes(`<form method="post" action="${undo}">`), 'the notice carries the Undo form');
  assert.match(page.body, /<kbd>u<\/kbd> Undo<\/button>/);
  assert.ok(page.body.includes(`alt="removed face ${enrolled}"`));

  assert.equal((await c.post(remove, teamlead)).statusCode, 409, 'already out');
  assert.equal((await c.post(undo, supervisor)).statusCode, 403);
  const back = await c.post(undo, teamlead);
  assert.equal(back.statusCode, 303);
  assert.equal(back.headers.location, `${path(LAN)}?restored=${enrolled}`);
  assert.equal((await db().selectFrom('gallery_removal').select('train_img_id').where('train_img_id', '=', enrolled).execute()).length, 0);
  const restoredPage = await c.get(String(back.headers.location), viewer);
  assert.match(restoredPage.body, /is back in the gallery/);
  assert.match(restoredPage.body, /Put back by tess at /);
  const again = await c.post(undo, teamlead);
  assert.equal(again.statusCode, 409);
  assert.match(again.body, /GALLERY_FACE_ACTIVE/);
  const audit = await db().selectFrom('audit_log').select(['actor', 'action']).where('subject', '=', `train_img:${enrolled}`).orderBy('id').execute();
  assert.deepEqual(audit.map((a) => [a.actor, a.action]), [['tess', 'gallery.remove'], ['tess', 'gallery.restore']]);

  // Another person's face, or no face, through this employee's path: 404.
  const othersFace = (await db().selectFrom('train_img').select('id').where('lan_id', '=', OTHER).executeTakeFirstOrThrow()).id;
  assert.equal((await c.post(`${path(LAN)}/gallery/${othersFace}/remove`, teamlead)).statusCode, 404);
  assert.equal((await c.post(`${path(LAN)}/gallery/99999999/remove`, teamlead)).statusCode, 404);
  assert.equal((await c.post(`${path(LAN)}/gallery/abc/remove`, teamlead)).statusCode, 404);
});

test("the threshold: a team lead sets it within the bounds or clears it; out of bounds is refused with the message; a supervisor is refused", async () => {
  const url = `${path(LAN)}/threshold`;
  const { min, max } = thresholdBounds(t.config.face.matchThreshold);
  assert.equal((await c.post(url, supervisor, { threshold: '0.5' })).statusCode, 403);
  assert.equal((await c.post(url, teamlead, { threshold: '0.5' }, null)).statusCode, 403);
  const out = await c.post(url, teamlead, { threshold: String(max + 0.1) });
  assert.equal(out.statusCode, 400, 'a value out of bounds is bad input');
  assert.match(out.body, new RegExp(`THRESHOLD_OUT_OF_BOUNDS: refused: [0-9.]+ is outside ${min}–${max}`));
  const long = await c.post(url, teamlead, { threshold: '0.5', reason: 'x'.repeat(1001) });
  assert.equal(long.statusCode, 400, 'a reason over 1,000 characters is refused, not cut');
  assert.match(long.body, /REASON_TOO_LONG/);
  const junk = await c.post(url, teamlead, { threshold: '0.5; DROP' });
  assert.equal(junk.statusCode, 400);
  assert.match(junk.body, /must be a decimal number/);
  assert.equal((await db().selectFrom('employee_threshold').selectAll().execute()).length, 0);

  const set = await c.post(url, teamlead, { threshold: '0.49', reason: 'lookalike colleague' });
  assert.equal(set.statusCode, 303, set.body);
  assert.equal(set.headers.location, `${path(LAN)}?threshold=set`);
  const row = await db().selectFrom('employee_threshold').selectAll().executeTakeFirstOrThrow();
  assert.deepEqual([row.lan_id, row.threshold, row.set_by, row.reason], [LAN, 0.49, 'tess', 'lookalike colleague']);
  const page = await c.get(String(set.headers.location), viewer);
  assert.match(page.body, /<dt>This employee's own<\/dt><dd>0\.490, set by tess at [^:]+:[^:]+:[^:]+: lookalike colleague<\/dd>/);
  const clear = await c.post(url, teamlead, { clear: '1' });
  assert.equal(clear.statusCode, 303);
  assert.equal((await db().selectFrom('employee_threshold').selectAll().execute()).length, 0);
  assert.match((await c.get(String(clear.headers.location), viewer)).body, /the site threshold applies/);
});

test('delete the employee: an admin only, with the lan_id typed exactly; a mismatch keeps everything; a match removes every row, audited, and says what went', async () => {
  const url = `${path(LAN)}/delete`;
  const before = await rowsOf(LAN);
  assert.ok(before.train > 0 && before.stream > 0 && before.alerts === 3);
  assert.equal((await c.post(url, teamlead, { confirm: LAN })).statusCode, 403);
  assert.equal((await c.post(url, admin, { confirm: LAN }, null)).statusCode, 403, 'no CSRF token');
  const anonymous = await app.inject({ method: 'POST', url, payload: `confirm=${encodeURIComponent(LAN)}`, headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' } });
  assert.equal(anonymous.statusCode, 303, 'no session: to the sign-in');
  for (const typed of [LAN_UPPER, `${LAN} `, '', 'NA\\Zoe\u0308 Ådam']) {
    const r = await c.post(url, admin, { confirm: typed });
    assert.equal(r.statusCode, 400, JSON.stringify(typed));
    assert.match(r.body, /not this employee&#39;s, exactly as shown: nothing deleted/);
  }
  assert.equal((await c.post(url, admin)).statusCode, 400, 'no confirmation at all');
  assert.deepEqual(await rowsOf(LAN), before, 'nothing deleted');
  const otherBefore = await rowsOf(OTHER);

  const r = await c.post(url, admin, { confirm: LAN });
  assert.equal(r.statusCode, 200, r.body);
  assert.doesNotMatch(r.body, INLINE_CODE);
  assert.ok(r.body.includes('<h1>Deleted: NA\\Zoë Ådam</h1>'));
  assert.match(r.body, new RegExp(`<tr><td>trainImages</td><td>${before.train}</td></tr>`));
  assert.match(r.body, new RegExp(`<tr><td>streamImages</td><td>${before.stream}</td></tr>`));
  assert.match(r.body, /<tr><td>alerts<\/td><td>3<\/td><\/tr>/);
  assert.ok(r.body.includes(`<code>${LAN}</code>`) && r.body.includes(`<code>${LAN_UPPER}</code>`), 'both spellings named');
  assert.deepEqual(await rowsOf(LAN), { train: 0, stream: 0, alerts: 0, descriptors: 0 });
  assert.deepEqual(await rowsOf(OTHER), otherBefore, 'the person without the accents stays');
  const audit = await db().selectFrom('audit_log').selectAll().where('action', '=', 'employee.delete').execute();
  assert.equal(audit.length, 1);
  assert.deepEqual([audit[0]!.actor, audit[0]!.lan_id], ['ada', LAN]);
  assert.equal((JSON.parse(audit[0]!.after_state!) as { removed: { trainImages: number } }).removed.trainImages, before.train);
  // The audit log keeps the decisions about them; their page is gone.
  assert.ok((await db().selectFrom('audit_log').select('id').where('action', '=', 'gallery.approve').execute()).length > 0);
  assert.equal((await c.get(path(LAN), viewer)).statusCode, 404);
  assert.equal((await c.post(url, admin, { confirm: LAN })).statusCode, 404);
});

test('an ambiguous name (NFC and NFD spellings) is refused with the message and nothing is deleted', async () => {
  const nfc = 'zo\u00eb';
  const nfd = 'zoe\u0308';
  await db().insertInto('train_img').values([{ lan_id: nfc, status: 'Y', result: 'SUCCESS' }, { lan_id: nfd, status: 'Y', result: 'SUCCESS' }]).execute();
  const r = await c.post(`${path(nfc)}/delete`, admin, { confirm: nfc });
  assert.equal(r.statusCode, 409, r.body);
  assert.match(r.body, /LAN_ID_AMBIGUOUS: refused: the rows matching &quot;zo\\u00eb&quot; are spelled 2 ways/);
  assert.match(r.body, /vigil delete-user --exact/);
  assert.equal((await db().selectFrom('train_img').select('id').where('lan_id', 'in', [nfc, nfd]).execute()).length, 2);
  assert.equal((await db().selectFrom('audit_log').select('id').where('action', '=', 'employee.delete').where('lan_id', '=', nfc).execute()).length, 0);
});

// The review queue's actions (issue 28, CONTRACT.md "Console"): confirm and dismiss, once
// each, audited; the open/decided filter; bulk dismiss (at most 100, all or none); the
// absence and refused-enrolment lists; an enrolment's page; the item page's neighbours
// and keys. Through `app.inject` on the real MariaDB.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import type { ResultCode } from '../../shared/contract/result-codes.ts';
import { createLogger } from '../../shared/logger.ts';
import { buildConsoleApp } from '../../services/console/app.ts';
import { addConsoleAccounts, consoleClient, INLINE_CODE, type ConsoleClient, type SignedIn } from '../helpers/console-client.ts';
import { createTestEnv, type TestEnv } from '../helpers/test-env.ts';

const JPEG = readFileSync(new URL('../fixtures/faces/img5.jpg', import.meta.url));
const T0 = Date.parse('2026-11-01T00:00:00.000Z');
const XSS = '<script>alert(1)</script>';
let t: TestEnv;
let app: FastifyInstance;
let c: ConsoleClient;
let viewer: SignedIn;
let sam: SignedIn;
let sue: SignedIn;
/** 60 reviewable snapshots of 'dora', one a minute (index 0 oldest), and 10 SUCCESS ones between. */
const dora: number[] = [];
let successSnapshot: number;
/** 55 absence alerts of 'abe', oldest first, and one impersonation alert. */
const absences: number[] = [];
let impersonation: number;
/** Refused enrolments, and one that succeeded. */
const enrolments: Record<string, number> = {};
let success: number;

const db = () => t.database().db;

/** The ids a queue page lists (each row's decision checkbox: a supervisor's page), in order. */
const rowIds = (r: LightMyRequestResponse) => [...r.body.matchAll(/<input type="checkbox" name="ids" value="(\d+)"/g)].map((m) => Number(m[1]));
const olderOf = (r: LightMyRequestResponse) => /<a rel="next" href="([^"]+)">Older/.exec(r.body)?.[1]?.replaceAll('&amp;', '&');
const decisions = async (kind: string, ids: number[]) =>
  ids.length === 0 ? [] : db().selectFrom('review_decision').selectAll().where('kind', '=', kind as 'snapshot').where('item_id', 'in', ids).orderBy('item_id').execute();
const audits = (subject: string) => db().selectFrom('audit_log').selectAll().where('subject', '=', subject).orderBy('id').execute();

/** A bulk dismiss: `ids` repeated, as a browser posts checked boxes. */
function bulk(who: SignedIn, ids: (number | string)[], fields: Record<string, string> = {}, csrf: string | null = who.csrf) {
  const body = new URLSearchParams(fields);
  for (const id of ids) body.append('ids', String(id));
  if (csrf !== null) body.set('_csrf', csrf);
  return app.inject({
    method: 'POST', url: '/review/dismiss', cookies: { vigil_session: who.session }, payload: body.toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
  });
}

async function walk(first: string, who: SignedIn = sam): Promise<{ ids: number[]; pages: number }> {
  const ids: number[] = [];
  let url: string | undefined = first;
  let pages = 0;
  while (url !== undefined) {
    const r = await c.get(url, who);
    assert.equal(r.statusCode, 200, r.body);
    assert.doesNotMatch(r.body, INLINE_CODE);
    ids.push(...rowIds(r));
    url = olderOf(r);
    pages++;
  }
  return { ids, pages };
}

before(async () => {
  t = await createTestEnv('consolereviewact');
  await addConsoleAccounts(db(), [['vera', 'viewer'], ['sam', 'supervisor'], ['sue', 'supervisor']]);
  app = await buildConsoleApp({ db: db(), config: t.config.console, logger: createLogger({ level: 'silent' }) });
  await app.ready();
  c = consoleClient(app, '10.46.0.');
  viewer = await c.signIn('vera');
  sam = await c.signIn('sam');
  sue = await c.signIn('sue');

  const results: ResultCode[] = ['UNKNOWN_PERSON', 'UNKNOWN_MULTIPLE_FACES', 'IMPERSONATION_SUSPECTED'];
  for (let i = 0; i < 70; i++) {
    const reviewable = i % 7 !== 3;
    const r = await db().insertInto('stream_img').values({
      lan_id: 'dora', capture_time: new Date(T0 + i * 60_000), status: 'Y', result: reviewable ? results[i % 3]! : 'SUCCESS', distance: 0.7,
      image: i === 0 ? JPEG : null,
    }).executeTakeFirstOrThrow();
    if (reviewable) dora.push(Number(r.insertId));
    else successSnapshot = Number(r.insertId);
  }
  assert.equal(dora.length, 60);

  // Absence alerts, each on a snapshot of its own (one alert per snapshot and kind), raised a minute apart.
  for (let i = 0; i < 56; i++) {
    const s = await db().insertInto('stream_img').values({ lan_id: i === 54 ? XSS : 'abe', capture_time: new Date(T0 - 86_400_000 + i * 60_000), status: 'Y', result: 'NO_FACES_FOUND' }).executeTakeFirstOrThrow();
    const kind = i === 55 ? 'impersonation' as const : 'absence' as const;
    const a = await db().insertInto('face_alert').values({
      lan_id: i === 54 ? XSS : 'abe', stream_img_id: Number(s.insertId), kind, state: 'published',
      notification: JSON.stringify({ data: { streak: 5, captureTime: new Date(T0 - 86_400_000 + i * 60_000).toISOString() } }),
      created_at: new Date(T0 - 86_400_000 + i * 60_000 + 1000),
    }).executeTakeFirstOrThrow();
    if (kind === 'absence') absences.push(Number(a.insertId));
    else impersonation = Number(a.insertId);
  }

  // Refused enrolments: 52 without a face (for paging), and one of each other refusal.
  const enrol = async (lanId: string, result: ResultCode, minute: number, detail: unknown, image: Buffer | null = null) => {
    const r = await db().insertInto('train_img').values({ lan_id: lanId, capture_time: new Date(T0 + minute * 60_000), status: 'Y', result, image, num_faces: 1 }).executeTakeFirstOrThrow();
    const id = Number(r.insertId);
    await db().insertInto('process_status').values({ image_type: 'train', image_id: id, status: 'Y', result, attempt: 1, worker: 'test', detail: JSON.stringify(detail), started_at: new Date(), finished_at: new Date() }).execute();
    return id;
  };
  for (let i = 0; i < 52; i++) enrolments[`none${i}`] = await enrol('erin', 'NO_FACES_FOUND', i, { faces: [], reasons: [] });
  enrolments.multiple = await enrol('erin', 'MULTIPLE_FACES', 100, { faces: [{ box: { x: 1, y: 2, width: 30, height: 40 } }, { box: { x: 50, y: 2, width: 30, height: 40 } }], reasons: [] });
  const face = { box: { x: 41, y: 52, width: 103, height: 124 }, score: 0.91, quality: { sizePx: 103.4, score: 0.91, brightness: 31.2, sharpness: 12.345, pose: { yaw: 3.5, pitch: -2.25, roll: 40 } } };
  enrolments.low = await enrol('erin', 'LOW_QUALITY', 101, {
    faces: [face],
    reasons: [{ check: 'brightness', value: 31.2, min: 40, message: 'face is too dark (mean 31 of 255)' }, { check: 'roll', value: 40, max: 25 }],
  }, JPEG);
  success = await enrol('erin', 'SUCCESS', 102, { faces: [face], reasons: [] });
  enrolments.duplicate = await enrol(XSS, 'DUPLICATE_IDENTITY', 103, { faces: [face], reasons: [], duplicateOf: { lanId: XSS, trainImgId: success, distance: 0.31234 } }, JPEG);
});

after(async () => {
  await app?.close();
  await t?.cleanup();
});

test('confirm: a viewer is refused (403), so is a post without the CSRF token; a supervisor confirms once, audited, and a second decision answers 409 naming who and when', async () => {
  const id = dora[59]!;
  assert.equal((await c.post(`/review/snapshot/${id}/confirm`, viewer)).statusCode, 403);
  assert.equal((await c.post(`/review/snapshot/${id}/confirm`, sam, {}, null)).statusCode, 403);
  assert.equal((await c.post(`/review/snapshot/${id}/confirm`, sam, {}, viewer.csrf)).statusCode, 403, "another session's token");
  const anon = await app.inject({ method: 'POST', url: `/review/snapshot/${id}/confirm`, headers: { accept: 'text/html' } });
  assert.equal(anon.statusCode, 303);
  assert.deepEqual(await decisions('snapshot', [id]), [], 'nothing decided by the refused posts');

  const r = await c.post(`/review/snapshot/${id}/confirm`, sam, { by: 'someone-else', reason: '  a stranger at the door ' });
  assert.equal(r.statusCode, 303, r.body);
  assert.equal(r.headers.location, `/review/snapshot/${id}?done=confirmed`);
  const [row] = await decisions('snapshot', [id]);
  assert.deepEqual([row!.decision, row!.decided_by, row!.lan_id, row!.reason], ['confirm', 'sam', 'dora', 'a stranger at the door']);
  const audit = await audits(`stream_img:${id}`);
  assert.equal(audit.length, 1);
  assert.deepEqual([audit[0]!.actor, audit[0]!.action, audit[0]!.lan_id], ['sam', 'review.confirm', 'dora']);
  assert.deepEqual(JSON.parse(audit[0]!.after_state!), { decision: 'confirm', reason: 'a stranger at the door' });

  const page = await c.get(`/review/snapshot/${id}?done=confirmed`, sam);
  assert.match(page.body, /Confirmed: the verdict was right/);
  assert.doesNotMatch((await c.get(`/review/snapshot/${id}?done=constructor`, sam)).body, /function|native code/, 'only the table\'s own sentences');
  assert.match(page.body, /Confirmed by sam at 20\d\d-[0-9T:.-]+Z UTC: a stranger at the door/);
  assert.doesNotMatch(page.body, /data-key="c"/, 'no confirm button on a decided item');

  for (const [who, action] of [[sue, 'confirm'], [sue, 'dismiss'], [sam, 'confirm']] as const) {
    const again = await c.post(`/review/snapshot/${id}/${action}`, who);
    assert.equal(again.statusCode, 409, again.body);
    assert.match(again.body, /REVIEW_DECIDED: refused: snapshot \d+ was already confirmed by sam at 20\d\d-\d\d-\d\dT[0-9:.]+Z UTC/);
  }
  assert.equal((await decisions('snapshot', [id]))[0]!.decided_by, 'sam', 'the first decision stands');
  // Two supervisors at the same moment: the primary key lets one in, the other is told who.
  const race = Number((await db().insertInto('stream_img').values({ lan_id: 'rita', capture_time: new Date(T0), status: 'Y', result: 'UNKNOWN_PERSON' }).executeTakeFirstOrThrow()).insertId);
  const both = await Promise.all([c.post(`/review/snapshot/${race}/confirm`, sam), c.post(`/review/snapshot/${race}/dismiss`, sue)]);
  assert.deepEqual(both.map((x) => x.statusCode).sort(), [303, 409]);
  assert.equal((await decisions('snapshot', [race])).length, 1);
  assert.equal((await audits(`stream_img:${race}`)).length, 1);
  assert.equal((await audits(`stream_img:${id}`)).length, 1, 'a refusal writes no audit entry');
  // A snapshot a supervisor said is the employee cannot also be confirmed as not them, nor dismissed.
  const proposed = Number((await db().insertInto('stream_img').values({ lan_id: 'dora', capture_time: new Date(T0 - 7 * 86_400_000), status: 'Y', result: 'UNKNOWN_PERSON' }).executeTakeFirstOrThrow()).insertId);
  const proposal = Number((await db().insertInto('gallery_proposal').values({ lan_id: 'dora', stream_img_id: proposed, face_index: 0, proposed_by: 'sue' }).executeTakeFirstOrThrow()).insertId);
  const contradiction = await c.post(`/review/snapshot/${proposed}/confirm`, sam);
  assert.equal(contradiction.statusCode, 409);
  assert.match(contradiction.body, /already proposed as the employee .* by sue/);
  assert.equal((await bulk(sam, [dora[49]!, proposed])).statusCode, 409, 'nor in a bulk dismiss');
  assert.deepEqual(await decisions('snapshot', [proposed, dora[49]!]), []);
  assert.doesNotMatch((await c.get(`/review/snapshot/${proposed}`, sam)).body, /data-key="[cd]"/, 'no confirm or dismiss button once proposed');
  // Out of the way of the queue's counts in the tests that follow.
  await db().deleteFrom('gallery_proposal').where('id', '=', proposal).execute();
  await db().deleteFrom('stream_img').where('id', '=', proposed).execute();
  // A snapshot that is not in the queue (a success), and one that does not exist.
  assert.equal((await c.post(`/review/snapshot/${successSnapshot}/confirm`, sam)).statusCode, 409, 'a success is not an item of the queue: a conflict with what it is, as on the enrolment page');
  assert.equal((await c.post('/review/snapshot/987654321/confirm', sam)).statusCode, 404);
  for (const bad of ['0', '-1', '1e3', '..%2Fx', '9'.repeat(30)]) assert.equal((await c.post(`/review/snapshot/${bad}/dismiss`, sam)).statusCode, 404, bad);
});

test('dismiss, then the open queue leaves decided items out; state=decided lists them, state=all both; a proposal or a not-this face counts as decided', async () => {
  const id = dora[58]!;
  const r = await c.post(`/review/snapshot/${id}/dismiss?lan_id=dora`, sam);
  assert.equal(r.statusCode, 303, r.body);
  assert.equal(r.headers.location, `/review/snapshot/${id}?lan_id=dora&done=dismissed`, 'back to the page, with the queue it came from');
  assert.equal((await audits(`stream_img:${id}`))[0]!.action, 'review.dismiss');
  await db().insertInto('gallery_proposal').values({ lan_id: 'dora', stream_img_id: dora[57]!, face_index: 0, proposed_by: 'sue' }).execute();

  const open = await walk('/review?lan_id=dora');
  assert.deepEqual(open.ids, dora.slice(0, 57).reverse(), 'newest first, without the three decided');
  assert.equal(open.pages, 2);
  const decided = await walk('/review?lan_id=dora&state=decided');
  assert.deepEqual(decided.ids, [dora[59], dora[58], dora[57]]);
  const all = await walk('/review?lan_id=dora&state=all');
  assert.deepEqual(all.ids, [...dora].reverse());
  assert.equal((await c.get('/review?state=closed', viewer)).statusCode, 400);
  assert.match((await c.get('/review?state=closed', viewer)).body, /state must be one of open, decided, all/);
});

test('bulk dismiss: one transaction for up to 100 items, each audited, 303 back to the same filters; a bad or unknown or decided id, or 101 ids, decide nothing', async () => {
  const chosen = [dora[10]!, dora[11]!, dora[12]!];
  const page = await c.get('/review?lan_id=dora', sam);
  assert.match(page.body, /<form id="bulk-dismiss" method="post" action="\/review\/dismiss"/);
  assert.match(page.body, /<input type="hidden" name="lan_id" value="dora">/);
  assert.doesNotMatch((await c.get('/review?lan_id=dora', viewer)).body, /bulk-dismiss/, 'a viewer has no checkboxes');

  assert.equal((await bulk(viewer, chosen)).statusCode, 403);
  assert.equal((await bulk(sam, chosen, {}, null)).statusCode, 403);
  for (const ids of [[...chosen, 'x'], [...chosen, '-4'], [...chosen, '1e3'], [...chosen, 987654321], [...chosen, dora[59]!], [...chosen, successSnapshot]]) {
    const r = await bulk(sam, ids, { lan_id: 'dora' });
    assert.equal(r.statusCode, ids.at(-1) === dora[59] ? 409 : 400, `${ids.at(-1)}: ${r.body}`);
    assert.deepEqual(await decisions('snapshot', chosen), [], `${ids.at(-1)}: nothing decided`);
  }
  const many = Array.from({ length: 101 }, (_, i) => dora[i % 50]!);
  const tooMany = await bulk(sam, many);
  assert.equal(tooMany.statusCode, 400);
  assert.match(tooMany.body, /at most 100/);
  assert.equal((await bulk(sam, [])).statusCode, 400);

  const r = await bulk(sam, chosen, { lan_id: 'dora', state: 'open', result: '', reason: 'bad frames' });
  assert.equal(r.statusCode, 303, r.body);
  assert.equal(r.headers.location, '/review?lan_id=dora&done=dismissed');
  const rows = await decisions('snapshot', chosen);
  assert.deepEqual(rows.map((x) => [Number(x.item_id), x.decision, x.decided_by, x.reason]), chosen.map((id) => [id, 'dismiss', 'sam', 'bad frames']));
  for (const id of chosen) {
    const [a] = await audits(`stream_img:${id}`);
    assert.deepEqual([a!.actor, a!.action, JSON.parse(a!.after_state!)], ['sam', 'review.dismiss', { decision: 'dismiss', reason: 'bad frames', bulk: 3 }]);
  }
  const after = await c.get(r.headers.location!, sam);
  assert.match(after.body, /Dismissed: the chosen items have left the open queue/);
  for (const id of chosen) assert.ok(!rowIds(after).includes(id));

  // 100 at once is allowed, in one statement and one transaction.
  const hundred: number[] = [];
  for (let i = 0; i < 100; i++) {
    const h = await db().insertInto('stream_img').values({ lan_id: 'hugo', capture_time: new Date(T0 - 7 * 86_400_000 + i * 1000), status: 'Y', result: 'UNKNOWN_PERSON' }).executeTakeFirstOrThrow();
    hundred.push(Number(h.insertId));
  }
  const all = await bulk(sam, hundred, { lan_id: 'hugo' });
  assert.equal(all.statusCode, 303, all.body);
  assert.equal((await decisions('snapshot', hundred)).length, 100);
  assert.equal(Number((await db().selectFrom('audit_log').select((eb) => eb.fn.countAll<number>().as('n')).where('action', '=', 'review.dismiss').where('lan_id', '=', 'hugo').executeTakeFirstOrThrow()).n), 100);
  assert.deepEqual(rowIds(await c.get('/review?lan_id=hugo', sam)), []);
});

test('absences: kind=absences lists the absence alerts only, newest first, paged by cursor; confirm and dismiss from the list, 404 for an alert that is not an absence', async () => {
  const all = await walk('/review?kind=absences&state=all');
  assert.deepEqual(all.ids, [...absences].reverse());
  assert.equal(all.pages, 2);
  assert.ok(!all.ids.includes(impersonation));
  const first = await c.get('/review?kind=absences', sam);
  assert.match(first.body, /<th>Streak<\/th>/);
  assert.match(first.body, /5 snapshots/);
  assert.match(first.body, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
  assert.doesNotMatch(first.body, /<script>alert/);
  assert.equal((await c.get('/review?kind=absences&result=UNKNOWN_PERSON', viewer)).statusCode, 400);
  assert.equal((await c.get('/review?kind=faces', viewer)).statusCode, 400);

  const id = absences[0]!;
  assert.equal((await c.post(`/review/absence/${id}/confirm`, viewer)).statusCode, 403);
  const r = await c.post(`/review/absence/${id}/confirm`, sam, { kind: 'absences', lan_id: 'abe' });
  assert.equal(r.statusCode, 303, r.body);
  assert.equal(r.headers.location, '/review?kind=absences&lan_id=abe&done=confirmed');
  assert.equal((await decisions('absence', [id]))[0]!.decision, 'confirm');
  assert.equal((await audits(`face_alert:${id}`))[0]!.action, 'review.confirm');
  assert.equal((await c.post(`/review/absence/${id}/dismiss`, sue)).statusCode, 409);
  assert.equal((await c.post(`/review/absence/${impersonation}/confirm`, sam)).statusCode, 404);

  // The row's own form posted by htmx: the answer is the row that takes its place, a refusal too.
  const hx = (path: string, who: SignedIn) => app.inject({
    method: 'POST', url: path, cookies: { vigil_session: who.session }, payload: new URLSearchParams({ _csrf: who.csrf }).toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'hx-request': 'true', accept: '*/*' },
  });
  const near = absences[absences.length - 2]!;
  assert.match(first.body, new RegExp(`<form method="post" action="/review/absence/${near}/dismiss" hx-post="/review/absence/${near}/dismiss" hx-target="closest tr" hx-swap="outerHTML">`));
  const swapped = await hx(`/review/absence/${near}/dismiss`, sam);
  assert.equal(swapped.statusCode, 200, swapped.body);
  assert.equal(swapped.body.trim(), `<tr class="decided"><td colspan="7" role="status">Absence alert ${near}: Dismissed: nothing to do. The item has left the open queue.</td></tr>`);
  assert.equal((await decisions('absence', [near]))[0]!.decision, 'dismiss');
  const twice = await hx(`/review/absence/${near}/confirm`, sue);
  assert.equal(twice.statusCode, 409);
  assert.match(twice.body, /^<tr class="decided"><td colspan="7" role="status">Absence alert \d+: refused: .*sam/);

  const open = await walk('/review?kind=absences');
  assert.equal(open.ids.length, absences.length - 2);
  assert.ok(!open.ids.includes(id) && !open.ids.includes(absences[absences.length - 2]!));
});

test('enrolments: kind=enrolments lists the refused ones (not a success), by result, paged by cursor', async () => {
  const refused = Object.values(enrolments);
  const all = await walk('/review?kind=enrolments');
  assert.deepEqual([...all.ids].sort((a, b) => a - b), [...refused].sort((a, b) => a - b));
  assert.ok(!all.ids.includes(success));
  assert.equal(all.pages, 2);
  assert.deepEqual(all.ids.slice(0, 3), [enrolments.duplicate, enrolments.low, enrolments.multiple], 'newest first');
  const low = await walk('/review?kind=enrolments&result=LOW_QUALITY');
  assert.deepEqual(low.ids, [enrolments.low]);
  assert.equal((await c.get('/review?kind=enrolments&result=SUCCESS', viewer)).statusCode, 400);
  assert.equal((await c.get('/review?kind=enrolments&result=UNKNOWN_PERSON', viewer)).statusCode, 400);
  const page = await c.get('/review?kind=enrolments', sam);
  assert.match(page.body, new RegExp(`<a href="/review/enrolment/${enrolments.low}\\?kind=enrolments" data-row>erin</a>`));
  assert.match(page.body, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
  assert.doesNotMatch(page.body, /<script>alert/);
  assert.match(page.body, /<input type="hidden" name="kind" value="enrolments">/);

  // Bulk dismiss of this list names train_img ids.
  const two = [enrolments.none0!, enrolments.none1!];
  const r = await bulk(sam, two, { kind: 'enrolments', result: 'NO_FACES_FOUND' });
  assert.equal(r.statusCode, 303, r.body);
  assert.equal(r.headers.location, '/review?kind=enrolments&result=NO_FACES_FOUND&done=dismissed');
  assert.deepEqual((await decisions('enrolment', two)).map((d) => d.decided_by), ['sam', 'sam']);
  assert.equal((await audits(`train_img:${two[0]}`))[0]!.action, 'review.dismiss');
  const open = await walk('/review?kind=enrolments&result=NO_FACES_FOUND');
  assert.equal(open.ids.length, 50);
  assert.ok(!open.ids.some((id) => two.includes(id)));
  assert.equal((await bulk(sam, two, { kind: 'nope' })).statusCode, 400);
});

test('the enrolment page: the photo with its face box, the result and LOW_QUALITY reasons in words, the measures with units, confirm and dismiss', async () => {
  const id = enrolments.low!;
  const r = await c.get(`/review/enrolment/${id}`, viewer);
  assert.equal(r.statusCode, 200, r.body);
  assert.doesNotMatch(r.body, INLINE_CODE);
  assert.match(r.body, /LOW_QUALITY: The face failed the quality gate/);
  assert.match(r.body, /<li>face is too dark \(mean 31 of 255\)<\/li>/);
  assert.match(r.body, /<li>head leaning \(40\.00, at most 25\)<\/li>/);
  assert.match(r.body, /<rect class="face-box best" x="41" y="52" width="103" height="124">/);
  assert.match(r.body, new RegExp(`src="/images/enrolment/${id}"`));
  assert.match(r.body, /face size<\/dt><dd>103 px<\/dd>/);
  assert.match(r.body, /brightness<\/dt><dd>31 of 255<\/dd>/);
  assert.match(r.body, /sharpness<\/dt><dd>12\.35<\/dd>/);
  assert.match(r.body, /yaw<\/dt><dd>3\.5°<\/dd>/);
  assert.match(r.body, /pitch<\/dt><dd>-2\.3°<\/dd>|pitch<\/dt><dd>-2\.2°<\/dd>/);
  assert.match(r.body, /roll<\/dt><dd>40\.0°<\/dd>/);
  assert.match(r.body, /2026-11-01T01:41:00\.000Z/);
  assert.doesNotMatch(r.body, /data-key="c"/, 'a viewer sees no decision');

  const s = await c.get(`/review/enrolment/${id}`, sam);
  assert.match(s.body, new RegExp(`<form method="post" action="/review/enrolment/${id}/confirm">`));
  assert.match(s.body, /data-key="d"/);
  assert.equal((await c.post(`/review/enrolment/${id}/dismiss`, viewer)).statusCode, 403);
  assert.equal((await c.post(`/review/enrolment/${id}/dismiss`, sam, {}, null)).statusCode, 403);
  const d = await c.post(`/review/enrolment/${id}/dismiss`, sam);
  assert.equal(d.statusCode, 303, d.body);
  assert.equal(d.headers.location, `/review/enrolment/${id}?done=dismissed`);
  const after = await c.get(d.headers.location!, sam);
  assert.match(after.body, /Dismissed by sam at/);
  assert.equal((await audits(`train_img:${id}`))[0]!.action, 'review.dismiss');
  const again = await c.post(`/review/enrolment/${id}/confirm`, sue);
  assert.equal(again.statusCode, 409);
  assert.match(again.body, /already dismissed by sam/);
  // A success is shown but not decided.
  const ok = await c.get(`/review/enrolment/${success}`, sam);
  assert.equal(ok.statusCode, 200);
  assert.doesNotMatch(ok.body, /data-key="c"/);
  assert.equal((await c.post(`/review/enrolment/${success}/confirm`, sam)).statusCode, 409);
  for (const bad of ['0', '-1', 'abc', '1.5', '1e3', '..%2Fx', '9'.repeat(30), '987654321']) {
    assert.equal((await c.get(`/review/enrolment/${bad}`, viewer)).statusCode, 404, bad);
  }
  assert.equal((await c.get(`/review/enrolment/${id}`, null, 'application/json')).statusCode, 401);
});

test('a DUPLICATE_IDENTITY enrolment names the other employee, escaped, with links to their page and to approvals', async () => {
  const r = await c.get(`/review/enrolment/${enrolments.duplicate}`, viewer);
  assert.equal(r.statusCode, 200, r.body);
  assert.doesNotMatch(r.body, /<script>alert/);
  assert.match(r.body, /<h1>Enrolment \d+ of &lt;script&gt;alert\(1\)&lt;\/script&gt;<\/h1>/);
  assert.match(r.body, /<a href="\/employees\/%3Cscript%3Ealert\(1\)%3C%2Fscript%3E">&lt;script&gt;alert\(1\)&lt;\/script&gt;<\/a> \(gallery face train_img \d+\), distance 0\.3123/);
  assert.match(r.body, /<a href="\/approvals">Approvals<\/a>/);
  assert.match(r.body, new RegExp(`src="/images/enrolment/${success}"`));
});

test('the item page links to the next and previous open item of the queue it was opened from, keys j and k; c, e, n, d on the decisions', async () => {
  // Open items of dora: dora[0..56] minus dora[10..12] (dismissed above), newest first.
  const open = dora.slice(0, 57).filter((_, i) => i < 10 || i > 12).reverse();
  const at = open.indexOf(dora[13]!);
  const r = await c.get(`/review/snapshot/${dora[13]}?lan_id=dora`, sam);
  assert.equal(r.statusCode, 200, r.body);
  assert.match(r.body, new RegExp(`<a href="/review/snapshot/${open[at + 1]}\\?lan_id=dora" rel="next" data-key="j">Next <kbd>j</kbd></a>`));
  assert.match(r.body, new RegExp(`<a href="/review/snapshot/${open[at - 1]}\\?lan_id=dora" rel="prev" data-key="k">Previous <kbd>k</kbd></a>`));
  assert.equal(open[at + 1], dora[9], 'the dismissed ones are skipped');
  assert.match(r.body, /<a href="\/review\?lan_id=dora">Back to the queue<\/a>/);
  for (const [key, label] of [['c', 'Confirm'], ['e', 'It is the employee'], ['n', 'Not this employee'], ['d', 'Dismiss']]) {
    assert.match(r.body, new RegExp(`<button type="submit" data-key="${key}"[^>]*>${label} <kbd>${key}</kbd></button>`));
  }
  assert.match(r.body, new RegExp(`action="/review/snapshot/${dora[13]}/confirm\\?lan_id=dora"`));
  // The newest open item has no previous one, the oldest no next.
  const newest = await c.get(`/review/snapshot/${open[0]}?lan_id=dora`, sam);
  assert.doesNotMatch(newest.body, /rel="prev"/);
  assert.match(newest.body, /rel="next"/);
  const oldest = await c.get(`/review/snapshot/${dora[0]}?lan_id=dora`, sam);
  assert.doesNotMatch(oldest.body, /rel="next"/);
  // The queue's rows are the links j/k move between.
  const queue = await c.get('/review?lan_id=dora', sam);
  assert.match(queue.body, new RegExp(`<a href="/review/snapshot/${open[0]}\\?lan_id=dora" data-row>dora</a>`));
  // A bad filter carried along is the default queue, not an error.
  assert.equal((await c.get(`/review/snapshot/${dora[13]}?state=nope`, sam)).statusCode, 200);
});

// The console's review pages (issue 28, CONTRACT.md "Console"): the queue with its filters and
// keyset paging, a snapshot's page with its face boxes and the supervisor's two decisions, and
// the authenticated image routes, through `app.inject` on the real MariaDB.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { sql } from 'kysely';
import sharp from 'sharp';
import { consoleUserRepository } from '../../db/repositories/console-user.repository.ts';
import { queueQuery, REVIEW_RESULTS } from '../../db/repositories/review.repository.ts';
import type { ResultCode } from '../../shared/contract/result-codes.ts';
import { hashPassword } from '../../shared/accounts/password.ts';
import type { Role } from '../../shared/contract/roles.ts';
import { createLogger } from '../../shared/logger.ts';
import { buildConsoleApp } from '../../services/console/app.ts';
import { INLINE_CODE } from '../helpers/console-client.ts';
import { assertKeysetPlan } from '../helpers/explain.ts';
import { createTestEnv, type TestEnv } from '../helpers/test-env.ts';

const PASSWORD = 'correct horse battery staple';
const JPEG = readFileSync(new URL('../fixtures/faces/img5.jpg', import.meta.url));
const ENROLMENT = readFileSync(new URL('../fixtures/faces/img16.jpg', import.meta.url));
const T0 = Date.parse('2026-11-01T00:00:00.000Z');
const XSS = '<script>alert(1)</script>';
let t: TestEnv;
let app: FastifyInstance;
let nextAddress = 1;
const address = () => `10.28.1.${nextAddress++}`;
let viewer: { session: string; csrf: string };
let supervisor: { session: string; csrf: string };
/** The snapshot the item and decision tests use, and its gallery face. */
let item: number;
let trainImg: number;

const db = () => t.database().db;

async function signIn(username: string): Promise<{ session: string; csrf: string }> {
  const remoteAddress = address();
  const login = await app.inject({ method: 'GET', url: '/login', remoteAddress, headers: { accept: 'text/html' } });
  const formToken = /name="_csrf" value="([^"]+)"/.exec(login.body)![1]!;
  const form = login.cookies.find((c) => c.name === 'vigil_login')!;
  const payload = new URLSearchParams({ username, password: PASSWORD, _csrf: formToken }).toString();
  const r = await app.inject({ method: 'POST', url: '/login', remoteAddress, cookies: { vigil_login: form.value }, payload, headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' } });
  assert.equal(r.statusCode, 303, r.body);
  const session = r.cookies.find((c) => c.name === 'vigil_session')!.value;
  const home = await app.inject({ method: 'GET', url: '/', cookies: { vigil_session: session }, headers: { accept: 'text/html' } });
  return { session, csrf: /name="_csrf" value="([^"]+)"/.exec(home.body)![1]! };
}

const get = (url: string, who: { session: string } | null = viewer) =>
  app.inject({ method: 'GET', url, cookies: who ? { vigil_session: who.session } : {}, headers: { accept: 'text/html' } });

const post = (url: string, who: { session: string; csrf: string }, fields: Record<string, string> = {}, csrf: string | null = who.csrf) =>
  app.inject({
    method: 'POST', url, cookies: { vigil_session: who.session },
    payload: new URLSearchParams({ ...fields, ...(csrf !== null && { _csrf: csrf }) }).toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
  });

/** The snapshot ids a queue page lists, in order (each row's thumbnail). */
const idsOf = (r: LightMyRequestResponse) => [...r.body.matchAll(/src="\/images\/snapshot\/(\d+)\?thumb=1"/g)].map((m) => Number(m[1]));
const olderOf = (r: LightMyRequestResponse) => /<a rel="next" href="([^"]+)">/.exec(r.body)?.[1]?.replaceAll('&amp;', '&');

before(async () => {
  t = await createTestEnv('consolereview');
  const hash = await hashPassword(PASSWORD);
  const users = consoleUserRepository(db());
  const accounts: [string, Role][] = [['vera', 'viewer'], ['sam', 'supervisor']];
  for (const [name, role] of accounts) assert.ok(await users.add({ name, role, passwordHash: hash, by: 'test' }));
  app = await buildConsoleApp({ db: db(), config: t.config.console, logger: createLogger({ level: 'silent' }) });
  await app.ready();
  viewer = await signIn('vera');
  supervisor = await signIn('sam');

  // 120 snapshots to review and 40 that are not, interleaved; three share each capture time.
  const results: ResultCode[] = ['UNKNOWN_PERSON', 'SUCCESS', 'UNKNOWN_MULTIPLE_FACES', 'IMPERSONATION_SUSPECTED', 'NO_FACES_FOUND', 'UNKNOWN_PERSON', 'IMPERSONATION_SUSPECTED', 'UNKNOWN_MULTIPLE_FACES'];
  const rows = Array.from({ length: 160 }, (_, i) => ({
    lan_id: i % 2 === 0 ? 'alice' : 'bob', capture_time: new Date(T0 + Math.floor(i / 3) * 60_000), status: 'Y' as const,
    result: results[i % results.length]!, distance: 0.5 + (i % 10) / 100, image: i % 40 === 0 ? JPEG : null,
  }));
  await db().insertInto('stream_img').values(rows).execute();
  await db().insertInto('stream_img').values({ lan_id: XSS, capture_time: new Date(T0 - 86_400_000), status: 'Y', result: 'UNKNOWN_PERSON', distance: 0.9 }).execute();

  const ti = await db().insertInto('train_img').values({ lan_id: 'carol', image: ENROLMENT, capture_time: new Date(T0), status: 'Y' }).executeTakeFirstOrThrow();
  trainImg = Number(ti.insertId);
  const si = await db().insertInto('stream_img').values({
    lan_id: 'carol', image: JPEG, capture_time: new Date(T0 - 2 * 86_400_000), status: 'Y', result: 'UNKNOWN_PERSON', distance: 0.7125, accuracy: 0.083, train_img_id: trainImg, num_faces: 1,
  }).executeTakeFirstOrThrow();
  item = Number(si.insertId);
  await db().insertInto('stream_face').values({
    stream_img_id: item, face_index: 0, lan_id: 'carol', box: JSON.stringify({ x: 41, y: 52, width: 103, height: 124 }), score: 0.987,
    landmarks: null, quality: JSON.stringify({ sharpness: 0.42, yaw: 3.5 }), model: 'ssd-mobilenet', descriptor: Buffer.alloc(512, 1),
  }).execute();
  await db().insertInto('process_status').values({
    image_type: 'stream', image_id: item, status: 'Y', result: 'UNKNOWN_PERSON', attempt: 1, worker: 'test',
    detail: JSON.stringify({ faces: 1, bestFace: 0, threshold: 0.6 }), started_at: new Date(), finished_at: new Date(),
  }).execute();
  await db().insertInto('face_alert').values({ lan_id: 'carol', stream_img_id: item, kind: 'unknown_person', state: 'published', notification: '{}' }).execute();
});

after(async () => {
  await app?.close();
  await t.cleanup();
});

test('the queue lists only the results to review, newest first, and pages 50 at a time by the cursor without repeats or gaps', async () => {
  const expected = (await db().selectFrom('stream_img').select('id').where('result', 'in', [...REVIEW_RESULTS]).orderBy('capture_time', 'desc').orderBy('id', 'desc').execute()).map((r) => Number(r.id));
  assert.equal(expected.length, 122, '120 interleaved, the hostile lan_id and the item');
  const seen: number[] = [];
  let url: string | undefined = '/review';
  let pages = 0;
  while (url !== undefined) {
    const r = await get(url);
    assert.equal(r.statusCode, 200, r.body);
    assert.doesNotMatch(r.body, INLINE_CODE);
    const ids = idsOf(r);
    assert.ok(ids.length <= 50);
    seen.push(...ids);
    url = olderOf(r);
    if (url !== undefined) assert.match(url, /^\/review\?before=\d+\.\d+$/);
    pages++;
  }
  assert.equal(pages, 3);
  assert.deepEqual(seen, expected);
});

test('the filters narrow the queue, keep their values on the next page, and a bad value answers 400 saying why', async () => {
  const alice = await get('/review?lan_id=alice&result=IMPERSONATION_SUSPECTED');
  assert.equal(alice.statusCode, 200);
  const want = (await db().selectFrom('stream_img').select('id').where('lan_id', '=', 'alice').where('result', '=', 'IMPERSONATION_SUSPECTED').orderBy('capture_time', 'desc').orderBy('id', 'desc').execute()).map((r) => Number(r.id));
  assert.ok(want.length > 0);
  assert.deepEqual(idsOf(alice), want);

  const from = new Date(T0 + 10 * 60_000).toISOString();
  const to = new Date(T0 + 20 * 60_000).toISOString();
  const span = await get(`/review?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`);
  const wantSpan = (await db().selectFrom('stream_img').select('id').where('result', 'in', [...REVIEW_RESULTS]).where('capture_time', '>=', new Date(from)).where('capture_time', '<', new Date(to)).orderBy('capture_time', 'desc').orderBy('id', 'desc').execute()).map((r) => Number(r.id));
  assert.ok(wantSpan.length > 0);
  assert.deepEqual(idsOf(span), wantSpan);

  const day = await get('/review?from=2026-10-30&to=2026-10-30');
  assert.deepEqual(idsOf(day), [item], 'a date-only `to` takes in the whole day');

  // A filtered page's "Older" link keeps the filter.
  const bobs = await get('/review?lan_id=bob');
  const older = olderOf(bobs);
  assert.ok(older);
  assert.match(older, /lan_id=bob/);
  const next = await get(older);
  const bobIds = new Set((await db().selectFrom('stream_img').select('id').where('lan_id', '=', 'bob').execute()).map((r) => Number(r.id)));
  assert.ok(idsOf(next).length > 0 && idsOf(next).every((id) => bobIds.has(id)));

  for (const [q, says] of [
    ['result=SUCCESS', /result must be one of/], ['from=yesterday', /from must be a date/], ['to=2026-02-30', /to must be a date/],
    ['from=2026-11-02&to=2026-11-01', /from must be before to/], ['before=1;DROP', /before must be a cursor/], ['before=abc.1', /before must be a cursor/],
    ['lan_id=a&lan_id=b', /lan_id must be/],
  ] as const) {
    const r = await get(`/review?${q}`);
    assert.equal(r.statusCode, 400, q);
    assert.match(r.body, says, q);
  }
});

test('a lan_id is text on the queue and the item page, never markup', async () => {
  const r = await get(`/review?lan_id=${encodeURIComponent(XSS)}`);
  assert.equal(r.statusCode, 200);
  assert.equal(idsOf(r).length, 1);
  assert.ok(!r.body.includes(XSS));
  assert.match(r.body, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
  const id = idsOf(r)[0]!;
  const page = await get(`/review/snapshot/${id}`);
  assert.equal(page.statusCode, 200);
  assert.ok(!page.body.includes(XSS));
  assert.doesNotMatch(page.body, INLINE_CODE);
});

test("the item page shows the result, the distance against the threshold, the confidence, the boxes over the image, the gallery face, the quality and the alerts", async () => {
  const r = await get(`/review/snapshot/${item}`);
  assert.equal(r.statusCode, 200, r.body);
  assert.doesNotMatch(r.body, INLINE_CODE);
  assert.match(r.body, /UNKNOWN_PERSON/);
  assert.match(r.body, /0\.7125 against the threshold 0\.6000 \(beyond the threshold\)/);
  assert.match(r.body, /8\.3%/);
  const meta = await sharp(JPEG).metadata();
  assert.match(r.body, new RegExp(`<svg class="boxes" viewBox="0 0 ${meta.width} ${meta.height}"`));
  assert.match(r.body, /<rect class="face-box best" x="41" y="52" width="103" height="124">/);
  assert.match(r.body, new RegExp(`src="/images/snapshot/${item}"`));
  assert.match(r.body, new RegExp(`src="/images/enrolment/${trainImg}"`));
  // The measures in words with their units, not field names (issue 28's rough edges).
  assert.match(r.body, /sharpness<\/dt><dd>0\.42<\/dd>/);
  assert.match(r.body, /yaw<\/dt><dd>3\.5°<\/dd>/);
  assert.match(r.body, /unknown_person \(published\)/);
  assert.match(r.body, /2026-10-30T00:00:00\.000Z/);
  assert.doesNotMatch(r.body, /It is the employee <kbd>e<\/kbd><\/button>/, 'a viewer sees no decision buttons');
  const sam = await get(`/review/snapshot/${item}`, supervisor);
  assert.match(sam.body, new RegExp(`<form method="post" action="/review/snapshot/${item}/propose">`));
  assert.match(sam.body, /It is the employee <kbd>e<\/kbd><\/button>/);
  assert.match(sam.body, /Not this employee <kbd>n<\/kbd><\/button>/);
  // A row whose image is gone says so, and draws no boxes.
  const gone = await get(`/review/snapshot/${idsOf(await get(`/review?lan_id=${encodeURIComponent(XSS)}`))[0]}`);
  assert.match(gone.body, /The image is gone/);
  assert.doesNotMatch(gone.body, /<svg/);
  for (const bad of ['0', '-1', 'abc', '1.5', '99999999', '1e3', '9'.repeat(30)]) {
    assert.equal((await get(`/review/snapshot/${bad}`)).statusCode, 404, bad);
  }
});

test("'it is the employee': a viewer is refused (403), a supervisor's proposal is made by the session's account, a second one is refused (409)", async () => {
  const byViewer = await post(`/review/snapshot/${item}/propose`, viewer);
  assert.equal(byViewer.statusCode, 403);
  const noCsrf = await post(`/review/snapshot/${item}/propose`, supervisor, {}, null);
  assert.equal(noCsrf.statusCode, 403);
  assert.match(noCsrf.body, /CSRF/);
  const wrongCsrf = await post(`/review/snapshot/${item}/propose`, supervisor, {}, viewer.csrf);
  assert.equal(wrongCsrf.statusCode, 403);
  assert.equal((await db().selectFrom('gallery_proposal').select('id').execute()).length, 0);

  const r = await post(`/review/snapshot/${item}/propose`, supervisor, { by: 'someone-else' });
  assert.equal(r.statusCode, 303, r.body);
  assert.equal(r.headers.location, `/review/snapshot/${item}?done=proposed`);
  const rows = await db().selectFrom('gallery_proposal').selectAll().execute();
  assert.equal(rows.length, 1);
  assert.deepEqual([Number(rows[0]!.stream_img_id), rows[0]!.face_index, rows[0]!.proposed_by, rows[0]!.lan_id, rows[0]!.status], [item, 0, 'sam', 'carol', 'pending']);
  const page = await get(r.headers.location as string, supervisor);
  assert.match(page.body, /Proposed for the employee/);
  assert.match(page.body, /Face 0 proposed for the gallery by sam: pending/);

  const again = await post(`/review/snapshot/${item}/propose`, supervisor);
  assert.equal(again.statusCode, 409);
  assert.match(again.body, /PROPOSAL_EXISTS: refused: face 0 of stream_img/);
  const badFace = await post(`/review/snapshot/${item}/propose`, supervisor, { face: 'x' });
  assert.equal(badFace.statusCode, 400);
  const noSuch = await post('/review/snapshot/987654/propose', supervisor);
  assert.equal(noSuch.statusCode, 404);
});

test("'not this employee' records the face by the session's account; a second time is refused (409)", async () => {
  assert.equal((await post(`/review/snapshot/${item}/not-this`, viewer)).statusCode, 403);
  assert.equal((await post(`/review/snapshot/${item}/not-this`, supervisor, {}, null)).statusCode, 403);
  const r = await post(`/review/snapshot/${item}/not-this`, supervisor);
  assert.equal(r.statusCode, 303, r.body);
  assert.equal(r.headers.location, `/review/snapshot/${item}?done=not-this`);
  const rows = await db().selectFrom('not_this_face').selectAll().execute();
  assert.equal(rows.length, 1);
  assert.deepEqual([Number(rows[0]!.stream_img_id), rows[0]!.face_index, rows[0]!.recorded_by, rows[0]!.lan_id], [item, 0, 'sam', 'carol']);
  const page = await get(r.headers.location as string);
  assert.match(page.body, /Recorded: this face is not the employee/);
  const again = await post(`/review/snapshot/${item}/not-this`, supervisor);
  assert.equal(again.statusCode, 409);
  assert.match(again.body, /NOT_THIS_EXISTS/);
  // A snapshot without a face is refused with the decision's own code.
  const faceless = (await db().selectFrom('stream_img').select('id').where('lan_id', '=', 'alice').orderBy('id').executeTakeFirstOrThrow()).id;
  const none = await post(`/review/snapshot/${faceless}/not-this`, supervisor);
  assert.equal(none.statusCode, 409);
  assert.match(none.body, /SNAPSHOT_NO_FACE/);
});

test('the image routes serve the JPEG privately, a thumbnail of at most 160 px, 404 for a bad or unknown id, 401 without a session', async () => {
  for (const [url, bytes] of [[`/images/snapshot/${item}`, JPEG], [`/images/enrolment/${trainImg}`, ENROLMENT]] as const) {
    const r = await get(url);
    assert.equal(r.statusCode, 200, url);
    assert.equal(r.headers['content-type'], 'image/jpeg');
    assert.equal(r.headers['cache-control'], 'private, no-store');
    assert.ok(r.rawPayload.equals(bytes), url);
    const thumb = await get(`${url}?thumb=1`);
    assert.equal(thumb.statusCode, 200);
    assert.equal(thumb.headers['cache-control'], 'private, no-store');
    const meta = await sharp(thumb.rawPayload).metadata();
    assert.equal(meta.format, 'jpeg');
    assert.ok(Math.max(meta.width!, meta.height!) <= 160, `${meta.width}x${meta.height}`);
    const again = await get(`${url}?thumb=1`);
    assert.ok(again.rawPayload.equals(thumb.rawPayload), 'the second is the cached one');
  }
  for (const url of ['/images/snapshot/../1', '/images/snapshot/..%2F1', '/images/snapshot/abc', '/images/snapshot/0', '/images/snapshot/987654', '/images/enrolment/987654', '/images/enrolment/1abc', `/images/snapshot/${item}/x`]) {
    assert.equal((await get(url)).statusCode, 404, url);
  }
  // A thumbnail made before retention (or delete-user) removed the image is not served after.
  const kept = (await db().selectFrom('stream_img').select('id').where('lan_id', '=', 'alice').where('image', 'is not', null).orderBy('id').executeTakeFirstOrThrow()).id;
  assert.equal((await get(`/images/snapshot/${kept}?thumb=1`)).statusCode, 200);
  await db().updateTable('stream_img').set({ image: null }).where('id', '=', kept).execute();
  assert.equal((await get(`/images/snapshot/${kept}?thumb=1`)).statusCode, 404, 'the cached thumbnail of a deleted image');
  const noImage = (await db().selectFrom('stream_img').select('id').where('image', 'is', null).executeTakeFirstOrThrow()).id;
  assert.equal((await get(`/images/snapshot/${noImage}?thumb=1`)).statusCode, 404, 'a row without its image');
  // Bytes that do not decode (a producer's garbage) have no thumbnail: 404, not a 500.
  const garbage = Number((await db().insertInto('stream_img').values({ lan_id: 'alice', image: Buffer.from('not a picture at all'), capture_time: new Date(T0 - 30 * 86_400_000), status: 'Y', result: 'INVALID_IMAGE' }).executeTakeFirstOrThrow()).insertId);
  assert.equal((await get(`/images/snapshot/${garbage}?thumb=1`)).statusCode, 404, 'an image that does not decode');
  for (const url of [`/images/snapshot/${item}`, `/images/enrolment/${trainImg}?thumb=1`]) {
    const r = await app.inject({ method: 'GET', url, headers: { accept: 'image/avif,image/webp,*/*' } });
    assert.equal(r.statusCode, 401, url);
  }
});

test('the queue reads an index of stream_img in capture order, by cursor, with or without a lan_id (EXPLAIN over 20,000 snapshots)', async () => {
  // Older than every snapshot above, so the other tests never saw them.
  await sql`INSERT INTO stream_img (lan_id, capture_time, status, result, distance)
    SELECT CONCAT('bulk', seq % 300), TIMESTAMP '2025-01-01 00:00:00' + INTERVAL seq MINUTE, 'Y',
      ELT(1 + seq % 6, 'SUCCESS', 'UNKNOWN_PERSON', 'SUCCESS', 'NO_FACES_FOUND', 'IMPERSONATION_SUSPECTED', 'SUCCESS'), 0.5
    FROM seq_1_to_20000`.execute(db());
  await sql`ANALYZE TABLE stream_img`.execute(db());
  const cursor = { captureTime: new Date('2025-01-10T00:00:00Z'), id: 10_000_000 };
  for (const [filter, keys] of [
    [{ results: REVIEW_RESULTS, limit: 51 }, /^stream_img_capture(_result)?$/],
    [{ results: REVIEW_RESULTS, before: cursor, limit: 51 }, /^stream_img_capture(_result)?$/],
    [{ results: ['UNKNOWN_PERSON'] as const, from: new Date('2025-01-02T00:00:00Z'), to: new Date('2025-01-05T00:00:00Z'), limit: 51 }, /^stream_img_capture(_result)?$/],
    [{ results: REVIEW_RESULTS, lanId: 'bulk7', before: cursor, limit: 51 }, /^stream_img_lan_capture_result$/],
  ] as const) {
    const row = await assertKeysetPlan(db(), queueQuery(db(), filter).compile(), keys);
    // With a cursor the walk starts at it (a range), not at the newest row.
    if ('before' in filter) assert.equal(row.type, 'range', JSON.stringify(row));
  }
});

// The console's approvals (issue 28, page 2) through `app.inject` on the real MariaDB and
// RabbitMQ: the pending proposals with the candidate face, the gallery and its distances,
// the nearest other employees and the dry run; approve and reject; the duplicate identities
// and "accept as different people"; the face crop route. The descriptors are real: the
// face engine describes test/fixtures/faces once, and the rows are written as facetraining
// and facestreaming would have written them.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import sharp from 'sharp';
import { encodeDescriptor } from '../../db/descriptor.ts';
import { galleryRepository } from '../../db/repositories/gallery.repository.ts';
import { brokerClients, topologyOptions } from '../../shared/app/app-context.ts';
import { analyzeOptions } from '../../shared/app/face-analyzer-for.ts';
import type { ResultCode } from '../../shared/contract/result-codes.ts';
import { FaceEngine, type AnalyzedFace } from '../../shared/face/engine.ts';
import { descriptorDistance } from '../../shared/face/geometry.ts';
import { createLogger } from '../../shared/logger.ts';
import { describeTopology } from '../../shared/runtime/topology.ts';
import { buildConsoleApp } from '../../services/console/app.ts';
import { addConsoleAccounts, consoleClient, INLINE_CODE, type ConsoleClient, type SignedIn } from '../helpers/console-client.ts';
import { drainQueue } from '../helpers/runtime-harness.ts';
import { createTestEnv, type TestEnv } from '../helpers/test-env.ts';

const XSS = '<script>alert(1)</script>';
const ALICE = 'NA\\alice';
const DAVE = 'NA\\dave';
const T0 = Date.parse('2026-11-20T09:00:00.000Z');
const logger = createLogger({ level: 'silent' });
// person01, person03, person05 twice, person10 twice (test/fixtures/faces/README.md).
const PHOTOS = { p01: 'img5.jpg', p03: 'img51.jpg', p05a: 'img16.jpg', p05b: 'img17.jpg', p10a: 'img44.jpg', p10b: 'img46.jpg' } as const;
type Photo = keyof typeof PHOTOS;
const bytes = (p: Photo) => readFileSync(new URL(`../fixtures/faces/${PHOTOS[p]}`, import.meta.url));

let t: TestEnv;
let app: FastifyInstance;
let c: ConsoleClient;
let brokers: ReturnType<typeof brokerClients>;
let model: string;
const faces = {} as Record<Photo, AnalyzedFace>;
let viewer: SignedIn;
let supervisor: SignedIn;
let lead: SignedIn;
let otherLead: SignedIn;
/** Alice's gallery, the snapshot proposed (p05a), the later one (p05b) the dry run changes, and the proposals. */
const ids = { aliceEnrol: 0, aliceEnrol2: 0, bobEnrol: 0, xssEnrol: 0, daveEnrol: 0, proposed: 0, later: 0, noImage: 0, proposal: 0, leoProposal: 0, xssProposal: 0, duplicate: 0 };
let captureSecond = 0;

const db = () => t.database().db;
const trainingQueue = () => describeTopology('facetraining', topologyOptions(t.config)).work;
const box = (f: AnalyzedFace) => JSON.stringify({ x: Math.round(f.box.x), y: Math.round(f.box.y), width: Math.round(f.box.width), height: Math.round(f.box.height) });

/** A SUCCESS enrolment with its descriptor, as facetraining writes it. */
async function enrolled(lanId: string, p: Photo): Promise<number> {
  const f = faces[p];
  const r = await db().insertInto('train_img').values({ lan_id: lanId, image: bytes(p), capture_time: new Date(T0), status: 'Y', result: 'SUCCESS', processed_time: new Date(T0), num_faces: 1 }).executeTakeFirstOrThrow();
  const id = Number(r.insertId);
  await db().insertInto('face_descriptor').values({ train_img_id: id, lan_id: lanId, model, descriptor: encodeDescriptor(f.descriptor), box: box(f), score: f.score, quality: JSON.stringify(f.quality) }).execute();
  return id;
}

/** A judged snapshot with its one face kept, as facestreaming writes it. */
async function judged(lanId: string, p: Photo, result: ResultCode, opts: { image?: boolean } = {}): Promise<number> {
  const f = faces[p];
  const r = await db()
    .insertInto('stream_img')
    .values({ lan_id: lanId, image: opts.image === false ? null : bytes(p), capture_time: new Date(T0 + ++captureSecond * 60_000), status: 'Y', result, num_faces: 1, processed_time: new Date() })
    .executeTakeFirstOrThrow();
  const id = Number(r.insertId);
  await db().insertInto('stream_face').values({ stream_img_id: id, face_index: 0, lan_id: lanId, box: box(f), score: f.score, landmarks: null, quality: JSON.stringify(f.quality), model, descriptor: encodeDescriptor(f.descriptor) }).execute();
  await db().insertInto('process_status').values({
    image_type: 'stream', image_id: id, status: 'Y', result, attempt: 1, worker: 'test',
    detail: JSON.stringify({ faces: 1, bestFace: 0, threshold: 0.6 }), started_at: new Date(), finished_at: new Date(),
  }).execute();
  return id;
}

const proposalRow = (id: number) => db().selectFrom('gallery_proposal').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
const auditOf = (action: string, subject: string) => db().selectFrom('audit_log').selectAll().where('action', '=', action).where('subject', '=', subject).execute();
const proposalIdsOf = (r: LightMyRequestResponse) => [...r.body.matchAll(/<h2><a href="\/approvals\/proposal\/(\d+)">/g)].map((m) => Number(m[1]));
const nextOf = (r: LightMyRequestResponse) => /<a rel="next" href="([^"]+)">/.exec(r.body)?.[1]?.replaceAll('&amp;', '&');
const distance = (a: Photo, b: Photo) => descriptorDistance(faces[a].descriptor, faces[b].descriptor).toFixed(4);

before(async () => {
  t = await createTestEnv('consoleapprovals');
  const { engine } = await FaceEngine.load(t.config.face.backend);
  model = engine.info.model;
  for (const p of Object.keys(PHOTOS) as Photo[]) {
    const a = await engine.analyze(bytes(p), analyzeOptions(t.config.face));
    assert.equal(a.faces.length, 1, `${PHOTOS[p]} shows one face`);
    faces[p] = a.faces[0]!;
  }
  await addConsoleAccounts(db(), [['vera', 'viewer'], ['sam', 'supervisor'], ['lea', 'teamlead'], ['leo', 'teamlead']]);
  brokers = brokerClients(t.config, logger, 'console approvals test');
  brokers.broker.start();
  app = await buildConsoleApp({ db: db(), config: t.config.console, logger, face: t.config.face, publisher: brokers.publisher });
  await app.ready();
  c = consoleClient(app, '10.128.2.');
  viewer = await c.signIn('vera');
  supervisor = await c.signIn('sam');
  lead = await c.signIn('lea');
  otherLead = await c.signIn('leo');

  // Alice: enrolled with person01 and person03; person05 was refused twice. The others:
  // the hostile lan_id has person05's other photo (close), bob and dave far, carol farther.
  ids.aliceEnrol = await enrolled(ALICE, 'p01');
  ids.aliceEnrol2 = await enrolled(ALICE, 'p03');
  ids.xssEnrol = await enrolled(XSS, 'p05b');
  ids.bobEnrol = await enrolled('NA\\bob', 'p10a');
  ids.daveEnrol = await enrolled(DAVE, 'p01');
  await enrolled('NA\\carol', 'p03');
  await judged(ALICE, 'p01', 'SUCCESS');
  ids.proposed = await judged(ALICE, 'p05a', 'UNKNOWN_PERSON');
  ids.later = await judged(ALICE, 'p05b', 'UNKNOWN_PERSON');
  ids.noImage = await judged(ALICE, 'p10b', 'UNKNOWN_PERSON', { image: false });
  const xssSnapshot = await judged(XSS, 'p05b', 'UNKNOWN_PERSON');

  // Proposed as a supervisor and a team lead do, through the review page.
  const propose = async (who: SignedIn, snapshot: number) => {
    const r = await c.post(`/review/snapshot/${snapshot}/propose`, who);
    assert.equal(r.statusCode, 303, r.body);
    return Number((await db().selectFrom('gallery_proposal').select('id').where('stream_img_id', '=', snapshot).where('status', '=', 'pending').executeTakeFirstOrThrow()).id);
  };
  ids.proposal = await propose(supervisor, ids.proposed);
  ids.leoProposal = await propose(otherLead, ids.later);
  ids.xssProposal = await propose(supervisor, xssSnapshot);
  // 21 more of dave's, for the paging (straight into the table: their facts are not what is tested).
  for (let i = 0; i < 21; i++) {
    const s = await judged(DAVE, 'p01', 'UNKNOWN_PERSON', { image: false });
    await db().insertInto('gallery_proposal').values({ lan_id: DAVE, stream_img_id: s, face_index: 0, proposed_by: 'sam' }).execute();
  }
});

after(async () => {
  await app?.close();
  await brokers?.publisher.close();
  await brokers?.broker.close();
  await t?.cleanup();
});

test('only a team lead reaches the approvals: no session is sent to sign in (401 for an image), a viewer and a supervisor get 403', async () => {
  for (const url of ['/approvals', `/approvals/proposal/${ids.proposal}`, '/approvals/duplicates']) {
    const anon = await c.get(url, null);
    assert.equal(anon.statusCode, 303, url);
    assert.match(anon.headers.location as string, /^\/login\?next=/);
    for (const who of [viewer, supervisor]) assert.equal((await c.get(url, who)).statusCode, 403, `${who.name} ${url}`);
    assert.equal((await c.get(url, lead)).statusCode, 200, url);
  }
  assert.equal((await c.get(`/images/snapshot/${ids.proposed}/face/0`, null, 'image/*')).statusCode, 401);
  for (const [url, fields] of [[`/approvals/proposal/${ids.proposal}/approve`, {}], [`/approvals/proposal/${ids.proposal}/reject`, { reason: 'no' }]] as const) {
    assert.equal((await c.post(url, supervisor, fields)).statusCode, 403, url);
    assert.equal((await c.post(url, lead, fields, null)).statusCode, 403, `${url} without the CSRF token`);
  }
  assert.equal((await proposalRow(ids.proposal)).status, 'pending', 'nothing was decided');
});

test('the list shows each pending proposal oldest first with its candidate face, proposer, gallery with distances and the three nearest other employees', async () => {
  const r = await c.get(`/approvals?lan_id=${encodeURIComponent(ALICE)}`, lead);
  assert.equal(r.statusCode, 200, r.body);
  assert.doesNotMatch(r.body, INLINE_CODE);
  assert.deepEqual(proposalIdsOf(r), [ids.proposal, ids.leoProposal]);
  const first = r.body.slice(r.body.indexOf(`/approvals/proposal/${ids.proposal}"`), r.body.indexOf(`/approvals/proposal/${ids.leoProposal}"`));
  assert.match(first, new RegExp(`src="/images/snapshot/${ids.proposed}/face/0"`), 'the candidate face');
  assert.match(first, /Proposed by <strong>sam<\/strong>/);
  assert.match(first, new RegExp(`href="/review/snapshot/${ids.proposed}"`));
  // Its gallery: both of alice's faces, each with the candidate's distance to it.
  for (const [id, photo] of [[ids.aliceEnrol, 'p01'], [ids.aliceEnrol2, 'p03']] as const) {
    assert.match(first, new RegExp(`src="/images/enrolment/${id}\\?thumb=1"[^]*?distance <strong class="distance">${distance('p05a', photo)}</strong>`));
  }
  // The nearest others: the hostile lan_id (person05's other photo, within the threshold), bob, dave; not carol (fourth), never alice.
  const nearest = first.slice(first.indexOf('<ol class="nearest">'), first.indexOf('</ol>'));
  const listed = [...nearest.matchAll(/<a href="\/employees\/([^"]+)">([^<]+)<\/a> distance <strong class="distance">([0-9.]+)<\/strong>/g)].map((m) => [decodeURIComponent(m[1]!), m[2], m[3]]);
  assert.deepEqual(listed, [
    [XSS, '&lt;script&gt;alert(1)&lt;/script&gt;', distance('p05a', 'p05b')],
    ['NA\\bob', 'NA\\bob', distance('p05a', 'p10a')],
    [DAVE, 'NA\\dave', distance('p05a', 'p01')],
  ]);
  assert.match(nearest, /within the threshold: this face could be theirs/);
  assert.ok(!r.body.includes(XSS), 'the hostile lan_id is escaped');

  const all = await c.get('/approvals', lead);
  assert.ok(!all.body.includes(XSS));
  assert.match(all.body, /for <a href="\/employees\/%3Cscript%3Ealert\(1\)%3C%2Fscript%3E">&lt;script&gt;alert\(1\)&lt;\/script&gt;<\/a>/);
});

test('the list pages 20 at a time by the id after the last one, oldest first, without repeats or gaps, and keeps its filter; a bad query is 400', async () => {
  const expected = (await db().selectFrom('gallery_proposal').select('id').where('status', '=', 'pending').orderBy('id').execute()).map((r) => Number(r.id));
  assert.equal(expected.length, 24);
  const seen: number[] = [];
  let url: string | undefined = '/approvals';
  while (url !== undefined) {
    const r = await c.get(url, lead);
    assert.equal(r.statusCode, 200, r.body);
    seen.push(...proposalIdsOf(r));
    url = nextOf(r);
  }
  assert.deepEqual(seen, expected);
  const daves = await c.get(`/approvals?lan_id=${encodeURIComponent(DAVE)}`, lead);
  assert.equal(proposalIdsOf(daves).length, 20);
  const next = nextOf(daves);
  assert.ok(next?.includes('lan_id=NA%5Cdave'), next);
  assert.equal(proposalIdsOf(await c.get(next!, lead)).length, 1);
  assert.match(daves.body, /The snapshot's image is gone/, 'no crop is offered for a snapshot without its image');
  assert.doesNotMatch(daves.body, /\/face\/0"/);
  assert.equal((await c.get('/approvals?after=abc', lead)).statusCode, 400);
  assert.equal((await c.get(`/approvals?lan_id=${'x'.repeat(129)}`, lead)).statusCode, 400);
});

test('a page of 20 proposals reads in a few waves of queries, not one proposal after another: the same page as the console answers', async () => {
  // Counts the statements and the waves of them (a wave starts when none is in flight): the
  // page's reads are one query each for all its proposals, and its confirmations run together.
  let statements = 0;
  let waves = 0;
  let inFlight = 0;
  const counted = db().withPlugin({
    transformQuery(args) {
      statements++;
      if (inFlight++ === 0) waves++;
      return args.node;
    },
    async transformResult(args) {
      inFlight--;
      return args.result;
    },
  });
  const counting = await buildConsoleApp({ db: counted, config: t.config.console, logger, face: t.config.face });
  try {
    const cc = consoleClient(counting, '10.128.4.');
    const session = await cc.signIn('lea');
    await cc.get('/approvals', session); // loads the gallery index once
    statements = 0;
    waves = 0;
    const r = await cc.get('/approvals', session);
    assert.equal(r.statusCode, 200, r.body);
    assert.equal(proposalIdsOf(r).length, 20);
    const plain = await c.get('/approvals', lead);
    const body = (b: string) => b.replace(/name="_csrf" value="[^"]*"/g, '');
    assert.equal(body(r.body), body(plain.body), 'the same page');
    // Before: ten reads per proposal, one proposal after another (about 200 statements in as many waves).
    assert.ok(waves <= 6, `${waves} waves of queries`);
    assert.ok(statements <= 20 + 15, `${statements} statements: one confirmation per proposal, the rest one per page`);
  } finally {
    await counting.close();
  }
  // The batched reads group rows by the lan_id's weight: another spelling of one employee finds its rows, as one query of it would.
  const repo = galleryRepository(db());
  const spelling = ALICE.toUpperCase();
  const [weight] = await repo.lanIdWeights([spelling]);
  const entries = (await repo.entriesOf([spelling, 'NA\\bob'])).filter((e) => e.lanIdWeight === weight);
  assert.deepEqual(entries.map((e) => e.trainImgId), (await repo.entries(ALICE)).map((e) => e.trainImgId));
  assert.ok(entries.length >= 2);
});

test("a proposal's page adds the dry run: the snapshots it would turn from UNKNOWN_PERSON to SUCCESS, linked; and the keys to approve and reject", async () => {
  const r = await c.get(`/approvals/proposal/${ids.proposal}`, lead);
  assert.equal(r.statusCode, 200, r.body);
  assert.doesNotMatch(r.body, INLINE_CODE);
  assert.match(r.body, /Over the last 4 snapshots \(4 re-scored\)/);
  assert.match(r.body, /UNKNOWN_PERSON → SUCCESS ×2/);
  const rows = [...r.body.matchAll(/<tr><td><a href="\/review\/snapshot\/(\d+)">\d+<\/a><\/td><td>[^<]+<\/td><td>([^<]+)<\/td><td>([^<]+)<\/td><td>([^<]+)<\/td><\/tr>/g)];
  assert.deepEqual(rows.map((m) => Number(m[1])), [ids.later, ids.proposed], 'newest first: the later snapshot of the same person, and the proposed one itself');
  assert.deepEqual(rows[0]!.slice(2), ['UNKNOWN_PERSON', `UNKNOWN_PERSON (${distance('p05b', 'p03')})`, `SUCCESS (${distance('p05b', 'p05a')})`]);
  assert.deepEqual(rows[1]!.slice(2), ['UNKNOWN_PERSON', `UNKNOWN_PERSON (${distance('p05a', 'p01')})`, 'SUCCESS (0.0000)']);
  assert.match(r.body, /<button type="submit" data-key="a"><kbd>a<\/kbd> Approve<\/button>/);
  assert.match(r.body, /<textarea id="reject-reason" name="reason" required maxlength="1000" rows="2" data-key="r"><\/textarea>/);
  // The proposer sees no forms: another team lead decides.
  const own = await c.get(`/approvals/proposal/${ids.leoProposal}`, otherLead);
  assert.match(own.body, /You proposed this face: another team lead decides it/);
  assert.doesNotMatch(own.body, /data-key="a"/);
  for (const bad of ['abc', '0', '-1', '1.5', '99999999']) assert.equal((await c.get(`/approvals/proposal/${bad}`, lead)).statusCode, 404, bad);
});

test('reject needs a reason (400 saying so, nothing decided); with one it is rejected by the session account, audited, and the list says so', async () => {
  for (const reason of ['', '   ', 'x'.repeat(1001)]) {
    const r = await c.post(`/approvals/proposal/${ids.leoProposal}/reject`, lead, { reason });
    assert.equal(r.statusCode, 400, JSON.stringify(reason));
    assert.match(r.body, reason.length > 1000 ? /longer than 1000 characters/ : /A rejection needs a reason/);
    assert.equal((await proposalRow(ids.leoProposal)).status, 'pending');
  }
  const own = await c.post(`/approvals/proposal/${ids.leoProposal}/reject`, otherLead, { reason: 'mine' });
  assert.equal(own.statusCode, 409);
  assert.match(own.body, /APPROVER_IS_PROPOSER/);
  const r = await c.post(`/approvals/proposal/${ids.leoProposal}/reject`, lead, { reason: `  not her: ${XSS}  `, by: 'leo' });
  assert.equal(r.statusCode, 303, r.body);
  assert.equal(r.headers.location, '/approvals?done=rejected');
  const row = await proposalRow(ids.leoProposal);
  assert.deepEqual([row.status, row.decided_by, row.reason], ['rejected', 'lea', `not her: ${XSS}`], 'the session account, never a form field');
  const audit = await auditOf('gallery.reject', `proposal:${ids.leoProposal}`);
  assert.deepEqual(audit.map((a) => a.actor), ['lea']);
  const list = await c.get('/approvals?done=rejected', lead);
  assert.match(list.body, /Rejected, with your reason/);
  assert.ok(!proposalIdsOf(list).includes(ids.leoProposal));
  const page = await c.get(`/approvals/proposal/${ids.leoProposal}`, lead);
  assert.ok(!page.body.includes(XSS) && page.body.includes('not her: &lt;script&gt;'), 'the reason is escaped');
  assert.match((await c.post(`/approvals/proposal/${ids.leoProposal}/reject`, lead, { reason: 'again' })).body, /PROPOSAL_DECIDED/);
});

test('approve makes the face an enrolment, audits it under the session account and publishes its train_img id to facetraining', async () => {
  const r = await c.post(`/approvals/proposal/${ids.proposal}/approve`, lead, { by: 'sam' });
  assert.equal(r.statusCode, 303, r.body);
  assert.equal(r.headers.location, '/approvals?done=approved');
  const row = await proposalRow(ids.proposal);
  assert.equal(row.status, 'approved');
  assert.equal(row.decided_by, 'lea');
  const trainImgId = Number(row.train_img_id);
  const train = await db().selectFrom('train_img').select(['lan_id', 'status', 'capture_time']).where('id', '=', trainImgId).executeTakeFirstOrThrow();
  assert.equal(train.lan_id, ALICE);
  assert.equal(train.status, 'N');
  const audit = await auditOf('gallery.approve', `proposal:${ids.proposal}`);
  assert.deepEqual(audit.map((a) => [a.actor, JSON.parse(a.after_state!).trainImgId]), [['lea', trainImgId]]);
  const messages = await drainQueue(trainingQueue());
  assert.deepEqual(messages.map((m) => JSON.parse(m.body)), [{ id: trainImgId }]);
  assert.match((await c.get('/approvals?done=approved', lead)).body, /Approved: the face is now an enrolment/);
  const again = await c.post(`/approvals/proposal/${ids.proposal}/approve`, lead);
  assert.equal(again.statusCode, 409);
  assert.match(again.body, /PROPOSAL_DECIDED/);
  assert.deepEqual(await drainQueue(trainingQueue()), [], 'a refusal publishes nothing');
  assert.equal((await c.post('/approvals/proposal/99999999/approve', lead)).statusCode, 404);
  assert.equal((await c.post('/approvals/proposal/abc/approve', lead)).statusCode, 404);
});

test('without a broker connection the console refuses to approve (409) and decides nothing', async () => {
  const bare = await buildConsoleApp({ db: db(), config: t.config.console, logger, face: t.config.face });
  try {
    const bc = consoleClient(bare, '10.128.3.');
    const r = await bc.post(`/approvals/proposal/${ids.xssProposal}/approve`, await bc.signIn('lea'));
    assert.equal(r.statusCode, 409);
    assert.match(r.body, /NO_BROKER/);
    assert.equal((await proposalRow(ids.xssProposal)).status, 'pending');
  } finally {
    await bare.close();
  }
});

test('the face route answers the crop of one face, private and not stored; 404 for a bad or unknown id, face or image', async () => {
  const r = await c.get(`/images/snapshot/${ids.proposed}/face/0`, viewer, 'image/*');
  assert.equal(r.statusCode, 200);
  assert.equal(r.headers['content-type'], 'image/jpeg');
  assert.equal(r.headers['cache-control'], 'private, no-store');
  const crop = await sharp(r.rawPayload).metadata();
  const whole = await sharp(bytes('p05a')).metadata();
  assert.ok(crop.width! < whole.width! && crop.height! < whole.height!, 'a crop, not the snapshot');
  assert.ok(crop.width! > faces.p05a.box.width, 'with a margin around the face');
  for (const url of [
    `/images/snapshot/${ids.proposed}/face/1`, `/images/snapshot/${ids.proposed}/face/x`, `/images/snapshot/${ids.proposed}/face/01`,
    `/images/snapshot/${ids.proposed}/face/-1`, '/images/snapshot/99999999/face/0', '/images/snapshot/abc/face/0',
    `/images/snapshot/${ids.proposed}/face/..%2F0`, `/images/snapshot/${ids.noImage}/face/0`,
  ]) {
    assert.equal((await c.get(url, viewer, 'image/*')).statusCode, 404, url);
  }
});

test('duplicate identities: the refused enrolment beside the face it matched with the distance; a team lead accepts them as different people, which is audited and queued again', async () => {
  // The hostile lan_id's second enrolment (person10) was refused as bob's face (facetraining's detail).
  const r = await db().insertInto('train_img').values({ lan_id: XSS, image: bytes('p10b'), capture_time: new Date(T0), status: 'F', result: 'DUPLICATE_IDENTITY', processed_time: new Date(T0), num_faces: 1 }).executeTakeFirstOrThrow();
  ids.duplicate = Number(r.insertId);
  const dist = Number(distance('p10b', 'p10a'));
  await db().insertInto('process_status').values({
    image_type: 'train', image_id: ids.duplicate, status: 'F', result: 'DUPLICATE_IDENTITY', attempt: 1, worker: 'test', started_at: new Date(), finished_at: new Date(),
    detail: JSON.stringify({ duplicateOf: { lanId: 'NA\\bob', trainImgId: ids.bobEnrol, distance: dist }, duplicateCheck: { bound: 0.35, faces: 6, ms: 1 } }),
  }).execute();
  // 50 more refused rows without a detail, for the paging.
  await db().insertInto('train_img').values(Array.from({ length: 50 }, () => ({ lan_id: DAVE, capture_time: new Date(T0), status: 'F' as const, result: 'DUPLICATE_IDENTITY' as const }))).execute();

  for (const who of [viewer, supervisor]) assert.equal((await c.post(`/approvals/duplicates/${ids.duplicate}/accept`, who)).statusCode, 403);
  assert.equal((await c.post(`/approvals/duplicates/${ids.duplicate}/accept`, lead, {}, null)).statusCode, 403, 'without the CSRF token');

  const page = await c.get(`/approvals/duplicates?lan_id=${encodeURIComponent(XSS)}`, lead);
  assert.equal(page.statusCode, 200, page.body);
  assert.doesNotMatch(page.body, INLINE_CODE);
  assert.ok(!page.body.includes(XSS));
  assert.match(page.body, new RegExp(`src="/images/enrolment/${ids.duplicate}\\?thumb=1"`));
  assert.match(page.body, new RegExp(`src="/images/enrolment/${ids.bobEnrol}\\?thumb=1"`));
  assert.match(page.body, /<a href="\/employees\/NA%5Cbob">NA\\bob<\/a>/);
  assert.match(page.body, new RegExp(`<td>${dist.toFixed(4)} \\(bound 0.3500\\)</td>`));
  assert.match(page.body, new RegExp(`action="/approvals/duplicates/${ids.duplicate}/accept"`));

  const all: number[] = [];
  let url: string | undefined = '/approvals/duplicates';
  while (url !== undefined) {
    const p = await c.get(url, lead);
    all.push(...[...p.body.matchAll(/action="\/approvals\/duplicates\/(\d+)\/accept"/g)].map((m) => Number(m[1])));
    url = nextOf(p);
  }
  const expected = (await db().selectFrom('train_img').select('id').where('status', '=', 'F').where('result', '=', 'DUPLICATE_IDENTITY').orderBy('id').execute()).map((x) => Number(x.id));
  assert.equal(expected.length, 51);
  assert.deepEqual(all, expected, 'two pages, oldest first, no repeat or gap');

  const accepted = await c.post(`/approvals/duplicates/${ids.duplicate}/accept`, lead, { reason: 'twins' });
  assert.equal(accepted.statusCode, 303, accepted.body);
  assert.equal(accepted.headers.location, '/approvals/duplicates?done=accepted');
  const row = await db().selectFrom('train_img').select(['status', 'result']).where('id', '=', ids.duplicate).executeTakeFirstOrThrow();
  assert.deepEqual([row.status, row.result], ['N', null]);
  const pair = await db().selectFrom('identity_distinct').selectAll().where('train_img_id', '=', ids.duplicate).executeTakeFirstOrThrow();
  assert.deepEqual([pair.lan_id, pair.other_lan_id, pair.accepted_by, pair.reason], [XSS, 'NA\\bob', 'lea', 'twins']);
  assert.deepEqual((await auditOf('gallery.accept-duplicate', `train_img:${ids.duplicate}`)).map((a) => a.actor), ['lea']);
  assert.deepEqual((await drainQueue(trainingQueue())).map((m) => JSON.parse(m.body)), [{ id: ids.duplicate }]);
  assert.match((await c.get('/approvals/duplicates?done=accepted', lead)).body, /Accepted as different people/);

  const again = await c.post(`/approvals/duplicates/${ids.duplicate}/accept`, lead);
  assert.equal(again.statusCode, 409);
  assert.match(again.body, /NOT_A_DUPLICATE/);
  const noDetail = await c.post(`/approvals/duplicates/${expected[1]}/accept`, lead);
  assert.equal(noDetail.statusCode, 409);
  assert.match(noDetail.body, /DUPLICATE_DETAIL_MISSING/);
  assert.equal((await c.post('/approvals/duplicates/99999999/accept', lead)).statusCode, 404);
  assert.equal((await c.post('/approvals/duplicates/abc/accept', lead)).statusCode, 404);
  assert.equal((await c.post(`/approvals/duplicates/${expected[1]}/accept`, lead, { reason: 'x'.repeat(1001) })).statusCode, 400);
});

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import type { RunningApp } from '../../shared/app/run-services.ts';
import { consoleUserRepository } from '../../db/repositories/console-user.repository.ts';
import { createTestEnv, type TestEnv } from '../helpers/test-env.ts';
import { publishRaw, waitFor } from '../helpers/runtime-harness.ts';
import { startFaceServices } from '../helpers/face-services.ts';
import { runCli } from '../helpers/cli.ts';
import { parseCsv, readZip } from '../helpers/zip-archive.ts';

/**
 * Issue 26 through RabbitMQ and MariaDB: the gallery, proposals and approvals, removal,
 * "not this employee", the employee's threshold and the dry run, driven by `vigil gallery`
 * as a supervisor and a team lead would, on real photos (test/fixtures/faces).
 */
let t: TestEnv;
let running: RunningApp;
const photo = (name: string) => readFileSync(new URL(`../fixtures/faces/${name}`, import.meta.url));
// person01, person03, person05 twice, person10 twice (test/fixtures/faces/README.md).
const P01 = photo('img5.jpg');
const P03 = photo('img51.jpg');
const P05a = photo('img16.jpg');
const P05b = photo('img17.jpg');
const P10a = photo('img44.jpg');
const P10b = photo('img46.jpg');
const T0 = Date.parse('2026-11-20T09:00:00.000Z');
let second = 0;

/** The same picture, smaller and encoded again: a different snapshot of the same scene. */
const resized = (img: Buffer, scale: number) =>
  sharp(img)
    .metadata()
    .then((m) => sharp(img).resize(Math.round(m.width! * scale)).jpeg({ quality: 88 }).toBuffer());

before(async () => {
  t = await createTestEnv('gallery', { FACE_WORKERS: '2', FACESTREAMING_CONCURRENCY: '2', FACETRAINING_CONCURRENCY: '2', VIGIL_RETRY_DELAYS: '500ms', VIGIL_MAX_ATTEMPTS: '40' });
  running = await startFaceServices(t);
  const users = consoleUserRepository(t.database().db);
  for (const [name, role] of [['sup1', 'supervisor'], ['lead1', 'teamlead'], ['lead2', 'teamlead'], ['view1', 'viewer']] as const) {
    assert.equal(await users.add({ name, role, passwordHash: 'unused-in-these-tests', by: 'test' }), true);
  }
});
after(async () => {
  await running?.stop();
  await t?.cleanup();
});

async function enrol(lanId: string, image: Buffer): Promise<number> {
  const r = await t.database().db.insertInto('train_img').values({ lan_id: lanId, image }).executeTakeFirstOrThrow();
  const id = Number(r.insertId);
  await publishRaw(`${t.prefix}facetraining`, [String(id)]);
  return id;
}

async function trained(id: number) {
  const db = t.database().db;
  await waitFor(`train_img ${id} processed`, async () => ['Y', 'F'].includes((await db.selectFrom('train_img').select('status').where('id', '=', id).executeTakeFirstOrThrow()).status), 120_000, 200);
  return db.selectFrom('train_img').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
}

async function snapshot(lanId: string, image: Buffer) {
  const db = t.database().db;
  const r = await db.insertInto('stream_img').values({ lan_id: lanId, image, capture_time: new Date(T0 + second++ * 10_000) }).executeTakeFirstOrThrow();
  const id = Number(r.insertId);
  await publishRaw(`${t.prefix}facestreaming`, [String(id)]);
  await waitFor(`stream_img ${id} judged`, async () => ['Y', 'F'].includes((await db.selectFrom('stream_img').select('status').where('id', '=', id).executeTakeFirstOrThrow()).status), 120_000, 200);
  const row = await db.selectFrom('stream_img').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  const attempt = await db.selectFrom('process_status').select('detail').where('image_type', '=', 'stream').where('image_id', '=', id).orderBy('id', 'desc').executeTakeFirstOrThrow();
  return { ...row, id, detail: JSON.parse(attempt.detail ?? '{}') as Record<string, any> };
}

async function vigil(...args: string[]) {
  const r = await runCli(args, t.env, { timeoutMs: 60_000 });
  return { ...r, json: r.code === 0 && r.stdout.trim().startsWith('{') ? JSON.parse(r.stdout) : undefined };
}

async function refused(code: string, ...args: string[]) {
  const r = await vigil(...args);
  assert.notEqual(r.code, 0, `${args.join(' ')} should be refused`);
  assert.match(r.stderr, new RegExp(`\\(${code}\\)`), r.stderr);
}

test('a snapshot that failed against the enrolment succeeds once its face is proposed and approved by someone else; a removed face is no longer matched', async () => {
  const lanId = 'NA\\gallery';
  const enrolment = await enrol(lanId, P01);
  assert.equal((await trained(enrolment)).result, 'SUCCESS');

  const failed = await snapshot(lanId, P03);
  assert.equal(failed.result, 'UNKNOWN_PERSON');
  assert.equal(Number(failed.train_img_id), enrolment);
  const faces = await t.database().db.selectFrom('stream_face').selectAll().where('stream_img_id', '=', failed.id).execute();
  assert.equal(faces.length, 1, 'every face found is kept');
  assert.equal(faces[0]!.descriptor.length, 512);
  assert.equal(faces[0]!.landmarks!.length, 68 * 8);

  await refused('ROLE_REQUIRED', 'gallery', 'propose', lanId, '--snapshot', String(failed.id), '--by', 'view1');
  await refused('ACTOR_UNKNOWN', 'gallery', 'propose', lanId, '--snapshot', String(failed.id), '--by', 'nobody');
  await refused('SNAPSHOT_OTHER_EMPLOYEE', 'gallery', 'propose', 'NA\\someone-else', '--snapshot', String(failed.id), '--by', 'lead1');
  const proposed = await vigil('gallery', 'propose', lanId, '--snapshot', String(failed.id), '--by', 'lead1', '--json');
  assert.equal(proposed.code, 0, proposed.stderr);
  const proposalId = proposed.json.proposalId as number;
  assert.ok(proposalId > 0);
  await refused('PROPOSAL_EXISTS', 'gallery', 'propose', lanId, '--snapshot', String(failed.id), '--by', 'sup1');

  // Two people, always: not the proposer, and not a supervisor.
  await refused('APPROVER_IS_PROPOSER', 'gallery', 'approve', String(proposalId), '--by', 'lead1');
  await refused('ROLE_REQUIRED', 'gallery', 'approve', String(proposalId), '--by', 'sup1');
  const approved = await vigil('gallery', 'approve', String(proposalId), '--by', 'lead2', '--json');
  assert.equal(approved.code, 0, approved.stderr);
  const reviewFace = approved.json.trainImgId as number;
  assert.equal((await trained(reviewFace)).result, 'SUCCESS', 'the approved face passes facetraining like any enrolment');
  await refused('PROPOSAL_DECIDED', 'gallery', 'approve', String(proposalId), '--by', 'lead2');

  const later = await snapshot(lanId, await resized(P03, 0.8));
  assert.equal(later.result, 'SUCCESS');
  assert.equal(Number(later.train_img_id), reviewFace, 'the best match is the approved face');
  assert.deepEqual(later.detail.gallery, { faces: 2, matched: reviewFace, notThis: 0 });
  const enrolled = await snapshot(lanId, await resized(P01, 0.8));
  assert.equal(enrolled.result, 'SUCCESS');
  assert.equal(Number(enrolled.train_img_id), enrolment, 'the enrolment still matches its own person');

  const shown = await vigil('gallery', lanId, '--json');
  assert.equal(shown.code, 0, shown.stderr);
  assert.equal(shown.json.lanId, lanId);
  assert.deepEqual(
    shown.json.entries.map((e: any) => [e.trainImgId, e.source, e.fromSnapshot, e.proposedBy, e.approvedBy]),
    [
      [reviewFace, 'review', failed.id, 'lead1', 'lead2'],
      [enrolment, 'enrolment', null, null, null],
    ],
  );
  assert.deepEqual(shown.json.proposals.map((p: any) => [p.id, p.snapshot, p.proposedBy, p.status]), [[proposalId, failed.id, 'lead1', 'approved']]);
  assert.equal(shown.json.threshold, 0.6);

  await refused('ROLE_REQUIRED', 'gallery', 'remove', String(reviewFace), '--by', 'sup1');
  const removed = await vigil('gallery', 'remove', String(reviewFace), '--by', 'lead1', '--reason', 'wrong person after all');
  assert.equal(removed.code, 0, removed.stderr);
  const afterRemoval = await snapshot(lanId, await resized(P03, 0.7));
  assert.equal(afterRemoval.result, 'UNKNOWN_PERSON', 'a removed face is not compared');
  assert.equal(Number(afterRemoval.train_img_id), enrolment);
  const kept = await t.database().db.selectFrom('train_img').select(['result']).where('id', '=', reviewFace).executeTakeFirstOrThrow();
  assert.equal(kept.result, 'SUCCESS', 'the removed face stays for the audit');
  assert.equal((await vigil('gallery', 'restore', String(reviewFace), '--by', 'lead2')).code, 0);
  assert.equal((await vigil('gallery', lanId, '--json')).json.entries.length, 2, 'undo puts it back');

  const audit = await t.database().db.selectFrom('audit_log').select(['actor', 'action', 'subject']).where('lan_id', '=', lanId).orderBy('id').execute();
  assert.deepEqual(
    audit.map((a) => [a.actor, a.action]),
    [
      ['lead1', 'gallery.propose'],
      ['lead2', 'gallery.approve'],
      ['lead1', 'gallery.remove'],
      ['lead2', 'gallery.restore'],
    ],
  );
});

test('a rejected proposal keeps its reason and changes nothing', async () => {
  // The first test's employee, so no new enrolment meets the duplicate check with a face already enrolled.
  const lanId = 'NA\\gallery';
  const s = await snapshot(lanId, P05b);
  assert.equal(s.result, 'UNKNOWN_PERSON');
  const p = await vigil('gallery', 'propose', lanId, '--snapshot', String(s.id), '--by', 'sup1', '--json');
  assert.equal(p.code, 0, p.stderr);
  await refused('REASON_REQUIRED', 'gallery', 'reject', String(p.json.proposalId), '--by', 'lead1', '--reason', '  ');
  assert.equal((await vigil('gallery', 'reject', String(p.json.proposalId), '--by', 'lead1', '--reason', 'another person at the desk')).code, 0);
  const shown = (await vigil('gallery', lanId, '--json')).json;
  assert.equal(shown.entries.length, 2, 'the gallery is as it was');
  assert.deepEqual([shown.proposals[0].id, shown.proposals[0].status, shown.proposals[0].decidedBy, shown.proposals[0].reason], [p.json.proposalId, 'rejected', 'lead1', 'another person at the desk']);
});

test('"not this employee" turns a later lookalike snapshot away, and the detail says why', async () => {
  const lanId = 'NA\\notthis';
  assert.equal((await trained(await enrol(lanId, P05a))).result, 'SUCCESS');
  const look = await snapshot(lanId, P05b);
  assert.equal(look.result, 'SUCCESS', 'the other photo matches the enrolment');
  await refused('ROLE_REQUIRED', 'gallery', 'not-this', lanId, '--snapshot', String(look.id), '--by', 'view1');
  const said = await vigil('gallery', 'not-this', lanId, '--snapshot', String(look.id), '--by', 'sup1', '--json');
  assert.equal(said.code, 0, said.stderr);
  await refused('NOT_THIS_EXISTS', 'gallery', 'not-this', lanId, '--snapshot', String(look.id), '--by', 'sup1');

  const again = await snapshot(lanId, await resized(P05b, 0.85));
  assert.equal(again.result, 'UNKNOWN_PERSON');
  assert.equal(again.detail.notThis.streamImgId, look.id);
  assert.ok(again.detail.notThis.distance < again.detail.notThis.galleryDistance);
  assert.ok(again.detail.notThis.galleryDistance <= 0.6, 'it would have matched');
  assert.ok(Number(again.accuracy) < 0.5, 'the confidence follows the decision');
  const self = await snapshot(lanId, await resized(P05a, 0.85));
  assert.equal(self.result, 'SUCCESS', 'the enrolled face itself is still the employee');
});

test("the employee's threshold is bounded, needs a team lead, and is used; the dry run writes nothing and reports what would change", async () => {
  const lanId = 'NA\\dryrun';
  const enrolment = await enrol(lanId, P10a);
  assert.equal((await trained(enrolment)).result, 'SUCCESS');
  const shots = [await snapshot(lanId, P10b), await snapshot(lanId, await resized(P10b, 0.8)), await snapshot(lanId, await resized(P10a, 0.7)), await snapshot(lanId, P01)];
  assert.deepEqual(shots.map((s) => s.result), ['SUCCESS', 'SUCCESS', 'SUCCESS', 'UNKNOWN_PERSON']);

  const db = t.database().db;
  const state = async () =>
    JSON.stringify({
      stream: await db.selectFrom('stream_img').select(['id', 'status', 'result', 'distance', 'train_img_id']).orderBy('id').execute(),
      train: await db.selectFrom('train_img').select(['id', 'status', 'result']).orderBy('id').execute(),
      counts: await Promise.all(['audit_log', 'gallery_proposal', 'gallery_removal', 'employee_threshold', 'not_this_face'].map(async (table) => (await db.selectFrom(table as 'audit_log').select(db.fn.countAll().as('n')).executeTakeFirstOrThrow()).n)),
    });
  const before = await state();

  const tighter = await vigil('gallery', 'dry-run', lanId, '--threshold', '0.45', '--json');
  assert.equal(tighter.code, 0, tighter.stderr);
  assert.equal(tighter.json.rescored, 4);
  const expected = shots.filter((s) => s.result === 'SUCCESS' && Number(s.distance) > 0.45).map((s) => s.id).reverse();
  assert.deepEqual(tighter.json.changes.map((c: any) => c.streamImgId), expected, 'exactly the matches farther than 0.45 would change');
  for (const c of tighter.json.changes) assert.deepEqual([c.now.result, c.proposed.result], ['SUCCESS', 'UNKNOWN_PERSON']);

  const none = await vigil('gallery', 'dry-run', lanId, '--remove', String(enrolment), '--json');
  assert.equal(none.code, 0, none.stderr);
  assert.equal(none.json.changes.length, 4);
  assert.deepEqual(Object.keys(none.json.summary).sort(), ['SUCCESS → NO_TRAINING_IMAGE', 'UNKNOWN_PERSON → NO_TRAINING_IMAGE']);

  const p = await vigil('gallery', 'propose', lanId, '--snapshot', String(shots[3]!.id), '--by', 'sup1', '--json');
  const withProposal = await vigil('gallery', 'dry-run', lanId, '--add-proposal', String(p.json.proposalId), '--json');
  assert.equal(withProposal.code, 0, withProposal.stderr);
  assert.deepEqual(withProposal.json.changes.map((c: any) => [c.streamImgId, c.now.result, c.proposed.result, c.proposed.matched]), [[shots[3]!.id, 'UNKNOWN_PERSON', 'SUCCESS', `proposal:${p.json.proposalId}`]]);
  const text = await vigil('gallery', 'dry-run', lanId, '--add-proposal', String(p.json.proposalId));
  assert.match(text.stdout, /1 result\(s\) would change: UNKNOWN_PERSON → SUCCESS ×1/);
  assert.match(text.stdout, /nothing written/);
  // The proposal itself was a change (audited); the dry runs were not.
  await db.deleteFrom('gallery_proposal').where('id', '=', p.json.proposalId).execute();
  await db.deleteFrom('audit_log').where('subject', '=', `proposal:${p.json.proposalId}`).execute();
  assert.equal(await state(), before, 'the dry runs wrote nothing');

  await refused('THRESHOLD_OUT_OF_BOUNDS', 'gallery', 'threshold', lanId, '0.9', '--by', 'lead1');
  await refused('ROLE_REQUIRED', 'gallery', 'threshold', lanId, '0.5', '--by', 'sup1');
  const set = await vigil('gallery', 'threshold', lanId, '0.5', '--by', 'lead1', '--reason', 'lookalike colleague', '--json');
  assert.equal(set.code, 0, set.stderr);
  assert.deepEqual([set.json.threshold, set.json.source, set.json.bounds], [0.5, 'employee', { min: 0.45, max: 0.65 }]);
  assert.equal(set.json.suggestion.suggested, null, 'no face said not to be them: nothing to tighten against');
  const judged = await snapshot(lanId, await resized(P10b, 0.9));
  assert.equal(judged.detail.threshold, 0.5);
  assert.equal(judged.detail.thresholdSource, 'employee');
  assert.equal(judged.result, Number(judged.distance) <= 0.5 ? 'SUCCESS' : 'UNKNOWN_PERSON');
  const audit = await db.selectFrom('audit_log').select(['actor', 'before_state', 'after_state']).where('action', '=', 'gallery.threshold').execute();
  assert.deepEqual(audit.map((a) => [a.actor, JSON.parse(a.before_state!), JSON.parse(a.after_state!)]), [['lead1', { threshold: null }, { threshold: 0.5, reason: 'lookalike colleague' }]]);
  assert.equal((await vigil('gallery', 'threshold', lanId, 'default', '--by', 'lead2', '--json')).json.source, 'default');
});

test('the export holds every face facestreaming found, each with its snapshot row, landmarks and model', async () => {
  const db = t.database().db;
  const faces = await db
    .selectFrom('stream_face as f')
    .innerJoin('stream_img as s', 's.id', 'f.stream_img_id')
    .select(['f.stream_img_id', 'f.face_index', 'f.model', 's.lan_id', 's.result', 's.distance'])
    .orderBy('s.capture_time')
    .orderBy('s.id')
    .orderBy('f.face_index')
    .execute();
  assert.ok(faces.length >= 12, `the tests above judged ${faces.length} faces`);
  const out = join(mkdtempSync(join(tmpdir(), 'vigil-gallery-export-')), 'faces.zip');
  // The snapshots above were captured from 2026-11-20 on.
  const r = await vigil('export', 'faces', '--since', `${Math.ceil((Date.now() - T0) / 86_400_000) + 1}d`, '--out', out, '--json');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.json.faces, faces.length);
  const zip = await readZip(out);
  const csv = parseCsv(zip.files.get('faces.csv')!.toString('utf8')).slice(1);
  assert.deepEqual(
    csv.map((c) => [Number(c[0]), Number(c[1]), c[2], c[9], c[10]]),
    faces.map((f) => [Number(f.stream_img_id), f.face_index, f.lan_id, f.result, f.distance === null ? '' : String(f.distance)]),
  );
  for (const c of csv) assert.ok(zip.files.get(c[11]!)!.length > 1000, `the crop of ${c[0]}-${c[1]}`);
  const jsonl = zip.files.get('faces.jsonl')!.toString('utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, any>);
  assert.ok(jsonl.every((j, i) => j.landmarks.length === 68 && j.model === faces[i]!.model && typeof j.quality.sharpness === 'number'));
});

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { FaceEngine } from '../../shared/face/engine.ts';
import { loadConfig } from '../../services/config.ts';
import type { RunningApp } from '../../shared/app/run-services.ts';
import type { Box } from '../../shared/face/geometry.ts';
import { service as facetraining } from '../../services/facetraining/main.ts';
import { consoleUserRepository } from '../../db/repositories/console-user.repository.ts';
import { createTestEnv, type TestEnv } from '../helpers/test-env.ts';
import { captureLogger, publishRaw, startApp, waitFor } from '../helpers/runtime-harness.ts';
import { runCli } from '../helpers/cli.ts';
import { cropFace, samplePhoto, sampleSubjects } from '../helpers/face-images.ts';

// Issue 26, item 3: an enrolment whose face is another employee's is DUPLICATE_IDENTITY,
// through RabbitMQ and MariaDB with the real engine; a team lead may accept it as a
// different person (`vigil gallery accept-duplicate`), and it is checked again.

let t: TestEnv;
let running: RunningApp;
let subject: Box;
let other: Box;

before(async () => {
  t = await createTestEnv('facetraindup', { FACE_WORKERS: '2', FACETRAINING_CONCURRENCY: '2' });
  const { engine } = await FaceEngine.load('auto');
  ({ subject, other } = await sampleSubjects(engine));
  const { logger } = captureLogger('warn');
  running = await startApp(loadConfig(t.env), [facetraining], logger);
  await waitFor('the consumer', () => running.consumers[0]!.attached, 60_000);
  const users = consoleUserRepository(t.database().db);
  await users.add({ name: 'sam', role: 'supervisor', passwordHash: 'x', by: 'test' });
  await users.add({ name: 'lee', role: 'teamlead', passwordHash: 'x', by: 'test' });
});
after(async () => {
  await running?.stop();
  await t.cleanup();
});

async function enrolAndSettle(lanId: string, image: Buffer): Promise<{ id: number; status: string; result: string | null; detail: any; stored: boolean }> {
  const db = t.database().db;
  const id = Number((await db.insertInto('train_img').values({ lan_id: lanId, image }).executeTakeFirstOrThrow()).insertId);
  await publishRaw(`${t.prefix}facetraining`, [String(id)]);
  return settled(id);
}

async function settled(id: number) {
  const db = t.database().db;
  await waitFor(`train_img ${id} processed`, async () => {
    const r = await db.selectFrom('train_img').select('status').where('id', '=', id).executeTakeFirstOrThrow();
    return r.status === 'Y' || r.status === 'F';
  }, 120_000, 200);
  const row = await db.selectFrom('train_img').select(['status', 'result']).where('id', '=', id).executeTakeFirstOrThrow();
  const attempt = await db.selectFrom('process_status').select('detail').where('image_type', '=', 'train').where('image_id', '=', id).orderBy('id', 'desc').limit(1).executeTakeFirstOrThrow();
  const stored = (await db.selectFrom('face_descriptor').select('id').where('train_img_id', '=', id).executeTakeFirst()) !== undefined;
  return { id, status: row.status, result: row.result, detail: JSON.parse(attempt.detail!), stored };
}

const accept = (id: number, by: string, ...more: string[]) => runCli(['gallery', 'accept-duplicate', String(id), '--by', by, ...more], t.env, { timeoutMs: 60_000 });

let first: Awaited<ReturnType<typeof enrolAndSettle>>;
let second: Awaited<ReturnType<typeof enrolAndSettle>>;

test("a second employee enrolled with the first one's photo is DUPLICATE_IDENTITY, naming the first lan_id, its face and the distance", async () => {
  const photo = await cropFace(samplePhoto(6), subject, 0.5);
  first = await enrolAndSettle('NA\\first', photo);
  assert.deepEqual([first.status, first.result, first.stored], ['Y', 'SUCCESS', true]);
  assert.equal(first.detail.duplicateCheck.bound, 0.35, 'matchThreshold 0.6 − duplicateMargin 0.25');

  second = await enrolAndSettle('NA\\second', photo);
  assert.deepEqual([second.status, second.result, second.stored], ['F', 'DUPLICATE_IDENTITY', false]);
  assert.equal(second.detail.duplicateOf.lanId, 'NA\\first');
  assert.equal(second.detail.duplicateOf.trainImgId, first.id);
  assert.ok(second.detail.duplicateOf.distance >= 0 && second.detail.duplicateOf.distance < 0.1, `the same photo: ${second.detail.duplicateOf.distance}`);
  assert.equal(second.detail.duplicateCheck.bound, 0.35);
  assert.ok(second.detail.duplicateCheck.faces >= 1);
  assert.equal(second.detail.faces.length, 1, 'the analysis is kept beside the refusal');
});

test('the same employee re-enrolling with their own photo is not a duplicate, spelled in another letter case too', async () => {
  const again = await enrolAndSettle('na\\FIRST', await cropFace(samplePhoto(6), subject, 0));
  assert.deepEqual([again.status, again.result, again.stored], ['Y', 'SUCCESS', true], JSON.stringify(again.detail.duplicateOf));
});

test("a different person's photo is SUCCESS", async () => {
  const third = await enrolAndSettle('NA\\third', await cropFace(samplePhoto(6), other, 0.5));
  assert.deepEqual([third.status, third.result, third.stored], ['Y', 'SUCCESS', true]);
});

test('a face taken out of the gallery does not count', async () => {
  const db = t.database().db;
  const photo = await cropFace(samplePhoto(6), other, 0.3);
  const third = await db.selectFrom('train_img').select('id').where('lan_id', '=', 'NA\\third').executeTakeFirstOrThrow();
  await db.insertInto('gallery_removal').values({ train_img_id: third.id, lan_id: 'NA\\third', removed_by: 'lee' }).execute();
  const fourth = await enrolAndSettle('NA\\fourth', photo);
  assert.deepEqual([fourth.status, fourth.result], ['Y', 'SUCCESS'], JSON.stringify(fourth.detail.duplicateOf));
  // And back in the gallery, it counts again: a fifth employee with the photo is a duplicate (of the closer of the two).
  await db.deleteFrom('gallery_removal').where('train_img_id', '=', third.id).execute();
  const fifth = await enrolAndSettle('NA\\fifth', photo);
  assert.equal(fifth.result, 'DUPLICATE_IDENTITY');
  assert.ok(['NA\\third', 'NA\\fourth'].includes(fifth.detail.duplicateOf.lanId));
});

test('a supervisor cannot accept a duplicate; a team lead can, and the enrolment checked again is SUCCESS', async () => {
  const db = t.database().db;
  const refused = await accept(second.id, 'sam');
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /ROLE_REQUIRED/);
  const notDuplicate = await accept(first.id, 'lee');
  assert.notEqual(notDuplicate.code, 0);
  assert.match(notDuplicate.stderr, /NOT_A_DUPLICATE/);
  assert.deepEqual(await db.selectFrom('identity_distinct').selectAll().execute(), [], 'nothing recorded by a refusal');

  const accepted = await accept(second.id, 'lee', '--reason', 'twins, checked at the desk', '--json');
  assert.equal(accepted.code, 0, accepted.stderr);
  assert.deepEqual(JSON.parse(accepted.stdout), { trainImgId: second.id, lanId: 'NA\\second', otherLanId: 'NA\\first', recorded: true, acceptedBy: 'lee' });
  const pair = await db.selectFrom('identity_distinct').selectAll().executeTakeFirstOrThrow();
  assert.deepEqual([pair.lan_id, pair.other_lan_id, Number(pair.train_img_id), pair.accepted_by, pair.reason], ['NA\\second', 'NA\\first', second.id, 'lee', 'twins, checked at the desk']);
  const audit = await db.selectFrom('audit_log').selectAll().where('action', '=', 'gallery.accept-duplicate').execute();
  assert.equal(audit.length, 1);
  assert.deepEqual([audit[0]!.actor, audit[0]!.lan_id, audit[0]!.subject], ['lee', 'NA\\second', `train_img:${second.id}`]);
  assert.equal(JSON.parse(audit[0]!.before_state!).duplicateOf.lanId, 'NA\\first');

  // Republished: facetraining checks it again, and the pair no longer counts (na\FIRST is the same employee as NA\first).
  const rerun = await settled(second.id);
  assert.deepEqual([rerun.status, rerun.result, rerun.stored], ['Y', 'SUCCESS', true], JSON.stringify(rerun.detail));
  const attempts = await db.selectFrom('process_status').select('result').where('image_type', '=', 'train').where('image_id', '=', second.id).orderBy('id').execute();
  assert.deepEqual(attempts.map((a) => a.result), ['DUPLICATE_IDENTITY', 'SUCCESS']);

  // Accepted once is decided: the row is no longer a duplicate.
  const twice = await accept(second.id, 'lee');
  assert.match(twice.stderr, /NOT_A_DUPLICATE/);
});

// Issue 27: stream_img.id, train_img.id and every column pointing at them are BIGINT after
// `vigil migrate`, the foreign keys onto them kept with their rules, and a snapshot past
// 2^31 goes through the way any other does.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql, type Kysely } from 'kysely';
import { facestreamingRepository } from '../../db/repositories/facestreaming.repository.ts';
import type { Database } from '../../db/schema.ts';
import { createTestEnv, type TestEnv } from '../helpers/test-env.ts';

let t: TestEnv;
let db: Kysely<Database>;

before(async () => {
  t = await createTestEnv('bigintids');
  db = t.database().db;
});

after(async () => {
  await t.cleanup();
});

test('the image ids and the columns pointing at them are BIGINT, the keys onto them as before', async () => {
  const cols = await sql<{ t: string; c: string; type: string }>`
    SELECT TABLE_NAME AS t, COLUMN_NAME AS c, DATA_TYPE AS type FROM information_schema.COLUMNS
    WHERE TABLE_SCHEMA = DATABASE() AND (
      (TABLE_NAME IN ('stream_img', 'train_img') AND COLUMN_NAME = 'id') OR COLUMN_NAME IN ('stream_img_id', 'train_img_id', 'image_id'))
      AND TABLE_NAME NOT LIKE 'report\\_%'`.execute(db);
  assert.ok(cols.rows.length >= 7);
  for (const r of cols.rows) assert.equal(r.type, 'bigint', `${r.t}.${r.c}`);
  const keys = await sql<{ t: string; c: string; rule: string }>`
    SELECT k.TABLE_NAME AS t, k.COLUMN_NAME AS c, r.DELETE_RULE AS rule FROM information_schema.KEY_COLUMN_USAGE k
    JOIN information_schema.REFERENTIAL_CONSTRAINTS r ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME AND r.TABLE_NAME = k.TABLE_NAME
    WHERE k.TABLE_SCHEMA = DATABASE() AND k.REFERENCED_TABLE_NAME IN ('stream_img', 'train_img') ORDER BY k.TABLE_NAME, k.COLUMN_NAME`.execute(db);
  assert.deepEqual(keys.rows.map((k) => `${k.t}.${k.c} ${k.rule}`), [
    'face_alert.stream_img_id CASCADE',
    'face_descriptor.train_img_id CASCADE',
    // Issue 26: the gallery's decisions outlive a snapshot's retention; faces and removals go with their rows.
    'gallery_proposal.stream_img_id SET NULL',
    'gallery_proposal.train_img_id SET NULL',
    'gallery_removal.train_img_id CASCADE',
    'identity_distinct.train_img_id SET NULL',
    'not_this_face.stream_img_id SET NULL',
    'snapshot_face.stream_img_id CASCADE',
    'stream_face.stream_img_id CASCADE',
    'stream_img.train_img_id SET NULL',
  ]);
});

test('a snapshot with an id past 2^31 is found, attempted and judged', async () => {
  const id = 2 ** 31 + 5;
  await db.insertInto('stream_img').values({ id, lan_id: 'NA\\big', capture_time: new Date(), status: 'N' } as never).execute();
  const repo = facestreamingRepository(db);
  const s = await repo.findSnapshot(id);
  assert.equal(s?.id, id);
  const attemptId = await repo.startAttempt({ id, worker: 'test' });
  await repo.recordVerdict({ id, lanId: 'NA\\big', captureTime: s!.captureTime, attemptId, result: 'NO_TRAINING_IMAGE', numFaces: null, distance: null, accuracy: null, trainImgId: null, detail: {}, alerts: [] });
  const row = await db.selectFrom('stream_img').select(['status', 'result']).where('id', '=', id).executeTakeFirstOrThrow();
  assert.deepEqual(row, { status: 'F', result: 'NO_TRAINING_IMAGE' });
  const next = await db.insertInto('stream_img').values({ lan_id: 'NA\\big', status: 'N' }).executeTakeFirstOrThrow();
  assert.equal(Number(next.insertId), id + 1);
});

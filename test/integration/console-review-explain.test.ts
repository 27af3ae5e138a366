// The review queue's lists with the open/decided filter (issue 28) read an index in their
// order and look each row's decisions up by key: EXPLAIN over 20,000 rows of each table.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { absencesQuery, enrolmentsQuery } from '../../db/repositories/review-queues.repository.ts';
import { queueQuery, REVIEW_RESULTS } from '../../db/repositories/review.repository.ts';
import { explain } from '../helpers/explain.ts';
import { useTestEnv } from '../helpers/test-env.ts';

const env = useTestEnv('consolereviewexplain');
const db = () => env().database().db;

test('the open lists read their index in order with a probe of the decisions per row, no filesort (EXPLAIN over 20,000 rows)', async () => {
  await sql`INSERT INTO stream_img (lan_id, capture_time, status, result, distance)
    SELECT CONCAT('bulk', seq % 300), TIMESTAMP '2025-01-01 00:00:00' + INTERVAL seq MINUTE, 'Y',
      ELT(1 + seq % 6, 'SUCCESS', 'UNKNOWN_PERSON', 'SUCCESS', 'NO_FACES_FOUND', 'IMPERSONATION_SUSPECTED', 'SUCCESS'), 0.5
    FROM seq_1_to_20000`.execute(db());
  await sql`INSERT INTO review_decision (kind, item_id, lan_id, decision, decided_by)
    SELECT 'snapshot', id, lan_id, 'dismiss', 'sam' FROM stream_img WHERE lan_id LIKE 'bulk%' AND id % 3 = 0 AND result <> 'SUCCESS'`.execute(db());
  await sql`INSERT INTO train_img (lan_id, capture_time, status, result)
    SELECT CONCAT('bulk', seq % 300), TIMESTAMP '2025-01-01 00:00:00' + INTERVAL seq MINUTE, 'Y',
      ELT(1 + seq % 5, 'SUCCESS', 'LOW_QUALITY', 'SUCCESS', 'NO_FACES_FOUND', 'SUCCESS')
    FROM seq_1_to_20000`.execute(db());
  await sql`INSERT INTO face_alert (lan_id, stream_img_id, kind, state, notification, created_at)
    SELECT lan_id, id, IF(id % 4 = 0, 'impersonation', 'absence'), 'published', '{}', capture_time FROM stream_img WHERE lan_id LIKE 'bulk%'`.execute(db());
  for (const table of ['stream_img', 'train_img', 'face_alert', 'review_decision']) await sql`ANALYZE TABLE ${sql.table(table)}`.execute(db());
  const cursor = { captureTime: new Date('2025-01-10T00:00:00Z'), id: 10_000_000 };
  const plans: [string, { sql: string; parameters: readonly unknown[] }, RegExp][] = [
    ['snapshots open', queueQuery(db(), { results: REVIEW_RESULTS, state: 'open', limit: 51 }).compile(), /^stream_img_capture(_result)?$/],
    ['snapshots open, cursor', queueQuery(db(), { results: REVIEW_RESULTS, state: 'open', before: cursor, limit: 51 }).compile(), /^stream_img_capture(_result)?$/],
    ['snapshots decided, lan_id', queueQuery(db(), { results: REVIEW_RESULTS, lanId: 'bulk7', state: 'decided', before: cursor, limit: 51 }).compile(), /^stream_img_lan_capture_result$/],
    ['absences open', absencesQuery(db(), { state: 'open', before: cursor, limit: 51 }).compile(), /^face_alert_kind_created$/],
    ['absences open, lan_id', absencesQuery(db(), { state: 'open', lanId: 'bulk7', limit: 51 }).compile(), /^face_alert_(lan|kind_created)$/],
    ['enrolments open, one result', enrolmentsQuery(db(), { state: 'open', results: ['LOW_QUALITY'], before: cursor, limit: 51 }).compile(), /^train_img_result_capture$/],
    ['enrolments open, every result', enrolmentsQuery(db(), { state: 'open', results: [], limit: 51 }).compile(), /^train_img_(capture|result_capture)$/],
  ];
  for (const [name, q, keys] of plans) {
    assert.doesNotMatch(q.sql, /offset/i);
    const plan = await explain(db(), q);
    const [main, ...probes] = plan;
    assert.match(String(main!.key), keys, `${name}: ${JSON.stringify(plan)}`);
    assert.notEqual(main!.type, 'ALL', name);
    assert.doesNotMatch(String(main!.Extra), /filesort/, `${name}: ${JSON.stringify(main)}`);
    const decision = probes.find((p) => p.table === 'rd');
    assert.ok(decision, `${name}: a probe of review_decision: ${JSON.stringify(plan)}`);
    assert.deepEqual([decision.key, decision.type], ['PRIMARY', 'eq_ref'], `${name}: ${JSON.stringify(decision)}`);
    // A lookup per row met, never every decision read into a temporary table.
    for (const p of probes) {
      assert.equal(p.select_type, 'DEPENDENT SUBQUERY', `${name}: ${JSON.stringify(p)}`);
      assert.match(String(p.type), /^(eq_)?ref$/, `${name}: every probe a lookup of an index: ${JSON.stringify(p)}`);
    }
  }
});

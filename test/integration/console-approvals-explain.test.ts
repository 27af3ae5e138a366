// The approvals' two lists (issue 28) read an index in id order by cursor: EXPLAIN over
// 20,000 rows of each table, on a database of their own.
import { test } from 'node:test';
import { sql } from 'kysely';
import { pendingProposalsQuery, refusedDuplicatesQuery } from '../../db/repositories/approvals.repository.ts';
import { assertKeysetPlan } from '../helpers/explain.ts';
import { useTestEnv } from '../helpers/test-env.ts';

const env = useTestEnv('consoleapprovalsexplain');
const db = () => env().database().db;

test('both lists read an index in id order, by cursor, with or without a lan_id (EXPLAIN over 20,000 rows each)', async () => {
  // Decided proposals and processed enrolments, as a site accumulates them.
  await sql`INSERT INTO gallery_proposal (lan_id, stream_img_id, face_index, proposed_by, status, decided_by, decided_at)
    SELECT CONCAT('bulk', seq % 300), NULL, 0, 'sam', IF(seq % 50 = 0, 'pending', ELT(1 + seq % 2, 'approved', 'rejected')), 'lea', NOW()
    FROM seq_1_to_20000`.execute(db());
  await sql`INSERT INTO train_img (lan_id, capture_time, status, result)
    SELECT CONCAT('bulk', seq % 300), NOW(), ELT(1 + seq % 3, 'Y', 'F', 'Y'), ELT(1 + seq % 4, 'SUCCESS', 'LOW_QUALITY', 'DUPLICATE_IDENTITY', 'NO_FACES_FOUND')
    FROM seq_1_to_20000`.execute(db());
  await sql`ANALYZE TABLE gallery_proposal, train_img`.execute(db());
  for (const [q, keys] of [
    [pendingProposalsQuery(db(), { limit: 21 }), /^gallery_proposal_(status|lan)$/],
    [pendingProposalsQuery(db(), { after: 5000, limit: 21 }), /^gallery_proposal_(status|lan)$/],
    [pendingProposalsQuery(db(), { lanId: 'bulk7', after: 100, limit: 21 }), /^gallery_proposal_lan$/],
    [refusedDuplicatesQuery(db(), { limit: 51 }), /^train_img_status_result$/],
    [refusedDuplicatesQuery(db(), { after: 5000, limit: 51 }), /^train_img_status_result$/],
  ] as const) {
    await assertKeysetPlan(db(), q.compile(), keys);
  }
});

import { sql, type Kysely } from 'kysely';
import { LATEST_STATE_VIEW } from './20261208T1200-report-people.ts';

/**
 * `report_latest_state` finds each person's newest judged snapshot as the newest `Y` and the
 * newest `F` apart, each the last entry of `stream_img (lan_id, status, id)` (issue 27).
 * `MAX(id) … status IN ('Y', 'F')` in a correlated subquery read every judged snapshot of the
 * person: 50 people took 9 ms at a million snapshots and 73–103 ms at ten million, growing
 * with each person's history. Same answer (the test of the views checks it).
 */
export const LATEST_STATE_NEWEST_VIEW = sql`
    SELECT k.lan_id AS lan_id,
           e.name AS employee_name,
           s.id AS last_stream_img_id,
           s.capture_time AS last_capture_time,
           s.processed_time AS last_processed_time,
           s.result AS last_result,
           s.accuracy AS last_accuracy,
           t.id AS enrolment_train_img_id,
           t.capture_time AS enrolment_capture_time,
           t.status AS enrolment_status,
           t.result AS enrolment_result,
           (SELECT COUNT(*) FROM stream_img p WHERE p.lan_id = k.lan_id AND p.status IN ('N', 'P')) AS snapshots_pending
    FROM report_person k
    LEFT JOIN employee e ON e.lan_id = k.lan_id
    LEFT JOIN stream_img s ON s.id = GREATEST(
      COALESCE((SELECT x.id FROM stream_img x WHERE x.lan_id = k.lan_id AND x.status = 'Y' ORDER BY x.id DESC LIMIT 1), 0),
      COALESCE((SELECT f.id FROM stream_img f WHERE f.lan_id = k.lan_id AND f.status = 'F' ORDER BY f.id DESC LIMIT 1), 0))
    LEFT JOIN train_img t ON t.id = (SELECT MAX(y.id) FROM train_img y WHERE y.lan_id = k.lan_id)`;

export async function up(db: Kysely<any>): Promise<void> {
  await sql`CREATE OR REPLACE SQL SECURITY DEFINER VIEW report_latest_state AS ${LATEST_STATE_NEWEST_VIEW}`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`CREATE OR REPLACE SQL SECURITY DEFINER VIEW report_latest_state AS ${LATEST_STATE_VIEW}`.execute(db);
}

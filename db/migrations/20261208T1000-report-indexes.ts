import { sql, type Kysely } from 'kysely';
import { indexExists } from '../migration-ddl.ts';
import { REPORT_VIEWS } from './20261201T1300-metabase-views.ts';

/**
 * Indexes for the reads that still went through a big table (issue 27,
 * test/integration/report-explain.test.ts):
 * - `train_img_status_result`: the enrolment failures (`F`, or `Y` with a result that is not
 *   a success), a range of the index instead of every processed enrolment; the view says
 *   `result <> 'SUCCESS'` so the optimizer can use it, `is_success` still decides.
 * - `stream_img_image_processed`: retention finds the snapshots that still hold bytes among
 *   those few, not among every row it already cleared. A one-byte prefix of the image is
 *   enough: NULL sorts first, so `image IS NOT NULL` is a range.
 */
export const ENROLMENT_FAILURES_VIEW = sql`
    SELECT t.id AS train_img_id,
           t.lan_id AS lan_id,
           e.name AS employee_name,
           t.capture_time AS capture_time,
           t.processed_time AS processed_time,
           t.status AS status,
           t.result AS result,
           rc.description AS result_description,
           t.num_faces AS num_faces,
           ps.attempt AS attempts,
           CASE WHEN JSON_VALID(ps.detail) THEN COALESCE(
             JSON_UNQUOTE(JSON_EXTRACT(ps.detail, '$.reason')),
             CASE WHEN JSON_LENGTH(ps.detail, '$.reasons') > 0 THEN CAST(JSON_EXTRACT(ps.detail, '$.reasons') AS CHAR) END,
             JSON_UNQUOTE(JSON_EXTRACT(ps.detail, '$.message'))
           ) END AS reason,
           ps.detail AS detail
    FROM train_img t
    LEFT JOIN employee e ON e.lan_id = t.lan_id
    LEFT JOIN result_code rc ON rc.code = t.result
    LEFT JOIN process_status ps ON ps.id = (SELECT MAX(q.id) FROM process_status q WHERE q.image_type = 'train' AND q.image_id = t.id)
    WHERE (t.status = 'F' OR (t.status = 'Y' AND t.result <> 'SUCCESS'))
      AND (t.status = 'F' OR rc.is_success = 0)`;

export async function up(db: Kysely<any>): Promise<void> {
  if (!(await indexExists(db, 'train_img', 'train_img_status_result'))) {
    await sql`ALTER TABLE train_img ADD INDEX train_img_status_result (status, result)`.execute(db);
  }
  if (!(await indexExists(db, 'stream_img', 'stream_img_image_processed'))) {
    await sql`ALTER TABLE stream_img ADD INDEX stream_img_image_processed (image(1), processed_time)`.execute(db);
  }
  await sql`CREATE OR REPLACE SQL SECURITY DEFINER VIEW report_enrolment_failures AS ${ENROLMENT_FAILURES_VIEW}`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`CREATE OR REPLACE SQL SECURITY DEFINER VIEW report_enrolment_failures AS ${REPORT_VIEWS.report_enrolment_failures!}`.execute(db);
  if (await indexExists(db, 'stream_img', 'stream_img_image_processed')) await sql`ALTER TABLE stream_img DROP INDEX stream_img_image_processed`.execute(db);
  if (await indexExists(db, 'train_img', 'train_img_status_result')) await sql`ALTER TABLE train_img DROP INDEX train_img_status_result`.execute(db);
}

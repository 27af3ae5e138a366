import { sql, type Kysely } from 'kysely';
import { indexExists, TABLE_OPTIONS } from '../migration-ddl.ts';
import { REPORT_VIEWS } from './20261201T1300-metabase-views.ts';

/**
 * Issue 27, what the scale bench still found growing with the table at a million rows:
 * - `report_latest_state` listed its people as the UNION of employee, the distinct lan_ids of
 *   train_img and those of stream_img, made whole at every question (0.4 s at a million
 *   snapshots, 87 ms on an empty table with 10,000 employees). `report_person` holds that
 *   list, kept by the upkeep's `report_rollup` job, and the view reads it: the first 50 rows
 *   or one person's take an index lookup each. Someone new appears one to two roll-up
 *   intervals late.
 * - the `work_pending` digest counts snapshots by result since a time: `stream_img_result_processed`
 *   (result, processed_time) makes that a range of the digest's window.
 */
async function lanIdCollationFor(db: Kysely<any>): Promise<string> {
  const v = await sql<{ v: string }>`SELECT VERSION() AS v`.execute(db);
  return /mariadb/i.test(v.rows[0]?.v ?? '') ? 'utf8mb4_uca1400_nopad_as_ci' : 'utf8mb4_0900_as_ci';
}

export const LATEST_STATE_VIEW = sql`
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
    LEFT JOIN stream_img s ON s.id = (SELECT MAX(x.id) FROM stream_img x WHERE x.lan_id = k.lan_id AND x.status IN ('Y', 'F'))
    LEFT JOIN train_img t ON t.id = (SELECT MAX(y.id) FROM train_img y WHERE y.lan_id = k.lan_id)`;

export async function up(db: Kysely<any>): Promise<void> {
  const collation = await lanIdCollationFor(db);
  await sql`CREATE TABLE IF NOT EXISTS report_person (
      lan_id varchar(64) CHARACTER SET utf8mb4 COLLATE ${sql.raw(collation)} NOT NULL PRIMARY KEY
    ) ${TABLE_OPTIONS}`.execute(db);
  // The people there are now; the roll-up job adds those who come later (the enrolments
  // after `report_person_train`'s id, the snapshots as it counts them).
  await sql`INSERT IGNORE INTO rollup_state (name, last_id, seen_max) SELECT 'report_person_train', COALESCE(MAX(id), 0), 0 FROM train_img`.execute(db);
  await sql`INSERT IGNORE INTO report_person (lan_id)
    SELECT lan_id FROM employee UNION SELECT DISTINCT lan_id FROM train_img UNION SELECT DISTINCT lan_id FROM stream_img`.execute(db);
  if (!(await indexExists(db, 'stream_img', 'stream_img_result_processed'))) {
    await sql`ALTER TABLE stream_img ADD INDEX stream_img_result_processed (result, processed_time)`.execute(db);
  }
  await sql`CREATE OR REPLACE SQL SECURITY DEFINER VIEW report_latest_state AS ${LATEST_STATE_VIEW}`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`CREATE OR REPLACE SQL SECURITY DEFINER VIEW report_latest_state AS ${REPORT_VIEWS.report_latest_state!}`.execute(db);
  if (await indexExists(db, 'stream_img', 'stream_img_result_processed')) await sql`ALTER TABLE stream_img DROP INDEX stream_img_result_processed`.execute(db);
  await db.schema.dropTable('report_person').ifExists().execute();
}

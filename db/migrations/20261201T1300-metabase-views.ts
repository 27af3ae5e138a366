import { sql, type Kysely, type RawBuilder } from 'kysely';

/**
 * Views for the supervisors' Metabase questions (seed 004): one per question, named
 * `report_*`. Metabase connects as a user granted SELECT on these views only
 * (compose/metabase-grants.sh); a view runs with its definer's rights (SQL SECURITY
 * DEFINER, the default on MariaDB and MySQL alike), so it reads the tables for that user
 * while the tables, and the image columns in them, stay closed to it. No view selects
 * `image`, a descriptor or a notification's recipients.
 *
 * JSON text columns are read through JSON_VALID first: one malformed row must not make the
 * whole view fail (MySQL raises an error on JSON_EXTRACT of invalid JSON).
 *
 * A later change to a view is a new migration with CREATE OR REPLACE, like any schema change.
 */
export const REPORT_VIEWS: Record<string, RawBuilder<unknown>> = {
  /** Snapshots per employee, hour and result: the seed's "summary by hour". `result` is NULL while not yet judged. */
  report_results_per_hour: sql`
    SELECT s.lan_id AS lan_id,
           e.name AS employee_name,
           CAST(DATE_FORMAT(s.capture_time, '%Y-%m-%d %H:00:00') AS DATETIME) AS hour,
           s.result AS result,
           rc.is_success AS is_success,
           COUNT(*) AS snapshots
    FROM stream_img s
    LEFT JOIN employee e ON e.lan_id = s.lan_id
    LEFT JOIN result_code rc ON rc.code = s.result
    GROUP BY s.lan_id, e.name, CAST(DATE_FORMAT(s.capture_time, '%Y-%m-%d %H:00:00') AS DATETIME), s.result, rc.is_success`,

  /** Judged snapshots whose result is not a success (the seed's `result <> 'SUCCESS'`, but SUCCESS_MULTIPLE_FACES is one), newest first. */
  report_non_success_results: sql`
    SELECT s.id AS stream_img_id,
           s.lan_id AS lan_id,
           e.name AS employee_name,
           s.capture_time AS capture_time,
           s.processed_time AS processed_time,
           s.status AS status,
           s.result AS result,
           rc.description AS result_description,
           s.accuracy AS accuracy,
           s.distance AS distance,
           s.num_faces AS num_faces,
           s.train_img_id AS train_img_id
    FROM stream_img s
    LEFT JOIN employee e ON e.lan_id = s.lan_id
    LEFT JOIN result_code rc ON rc.code = s.result
    WHERE s.status <> 'N' AND (s.status = 'F' OR rc.is_success = 0)
    ORDER BY s.id DESC`,

  /**
   * Per person (an employee row, an enrolment or a snapshot): the newest judged snapshot and
   * the newest enrolment, whatever their state. Every lookup is on a `lan_id` index.
   */
  report_latest_state: sql`
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
    FROM (SELECT lan_id FROM employee UNION SELECT DISTINCT lan_id FROM train_img UNION SELECT DISTINCT lan_id FROM stream_img) k
    LEFT JOIN employee e ON e.lan_id = k.lan_id
    LEFT JOIN stream_img s ON s.id = (SELECT MAX(x.id) FROM stream_img x WHERE x.lan_id = k.lan_id AND x.status IN ('Y', 'F'))
    LEFT JOIN train_img t ON t.id = (SELECT MAX(y.id) FROM train_img y WHERE y.lan_id = k.lan_id)`,

  /**
   * Enrolments that failed, with the reason of their last attempt: LOW_QUALITY's reasons,
   * INVALID_IMAGE's decoder message, or the error that failed the image for good.
   */
  report_enrolment_failures: sql`
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
    WHERE t.status = 'F' OR (t.status = 'Y' AND rc.is_success = 0)`,

  /** Impersonation, absence and unknown-person alerts raised by facestreaming, and whether they went out. */
  report_face_alerts: sql`
    SELECT a.id AS alert_id,
           a.kind AS kind,
           a.lan_id AS lan_id,
           e.name AS employee_name,
           a.stream_img_id AS stream_img_id,
           s.capture_time AS capture_time,
           s.result AS result,
           a.state AS state,
           a.created_at AS raised_at,
           a.published_at AS published_at,
           CASE WHEN JSON_VALID(a.notification) THEN JSON_EXTRACT(a.notification, '$.data.trainImgId') END AS train_img_id,
           CASE WHEN JSON_VALID(a.notification) THEN JSON_EXTRACT(a.notification, '$.data.streak') END AS streak,
           CASE WHEN JSON_VALID(a.notification) THEN CAST(JSON_EXTRACT(a.notification, '$.data.evidence') AS CHAR) END AS evidence
    FROM face_alert a
    LEFT JOIN employee e ON e.lan_id = a.lan_id
    LEFT JOIN stream_img s ON s.id = a.stream_img_id`,

  /** Transcoder jobs: source, state, timings, and frames kept or dropped (and why). */
  report_video_jobs: sql`
    SELECT v.id AS video_job_id,
           v.source_bucket AS source_bucket,
           v.source_key AS source_key,
           v.status AS status,
           v.attempts AS attempts,
           v.source_seconds AS source_seconds,
           v.source_bytes AS source_bytes,
           CASE WHEN JSON_VALID(v.outputs) THEN JSON_LENGTH(v.outputs, '$.clips') END AS clips,
           v.frames_kept AS frames_kept,
           COALESCE(v.frames_black, 0) + COALESCE(v.frames_frozen, 0) + COALESCE(v.frames_blurred, 0) AS frames_dropped,
           v.frames_black AS frames_black,
           v.frames_frozen AS frames_frozen,
           v.frames_blurred AS frames_blurred,
           v.download_ms AS download_ms,
           v.ffmpeg_ms AS ffmpeg_ms,
           v.total_ms AS total_ms,
           v.error_code AS error_code,
           v.created_at AS created_at,
           v.started_at AS started_at,
           v.finished_at AS finished_at,
           v.source_deleted_at AS source_deleted_at
    FROM video_job v`,
};

export async function up(db: Kysely<any>): Promise<void> {
  for (const [name, query] of Object.entries(REPORT_VIEWS)) {
    await sql`CREATE OR REPLACE SQL SECURITY DEFINER VIEW ${sql.table(name)} AS ${query}`.execute(db);
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const name of Object.keys(REPORT_VIEWS)) await sql`DROP VIEW IF EXISTS ${sql.table(name)}`.execute(db);
}

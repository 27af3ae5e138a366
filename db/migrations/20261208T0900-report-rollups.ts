import { sql, type Kysely } from 'kysely';
import { TABLE_OPTIONS } from '../migration-ddl.ts';
import { REPORT_VIEWS } from './20261201T1300-metabase-views.ts';

/**
 * Roll-ups of `stream_img` per employee, hour (and day) and result, kept by the upkeep's
 * `report_rollup` job (db/repositories/rollup.repository.ts), and the hourly report view
 * reading them instead of grouping the whole table (issue 27: 14.5 s at a million rows).
 *
 * - `rollup_state`: per roll-up, the last `stream_img.id` counted (`last_id`) and the
 *   highest id the previous run saw (`seen_max`): a run counts only up to what an earlier
 *   run saw, so an insert whose id was taken but not yet committed is not stepped over.
 * - `stream_rollup_row`: the rows of one run's id range as that run read them; those still
 *   in `N`/`P` stay (open) until judged or deleted, then their count moves from the result
 *   they were counted under to their verdict. One statement copies a row, and every count
 *   comes from the copy, so a verdict landing mid-run is never counted twice or lost.
 * - `stream_result_hour`, `stream_result_day`: the counts. `result` is '' for "not judged"
 *   (a unique key would not hold on NULL); the views give NULL back.
 *
 * `lan_id` has the identity collation of the server (20261207T0900-lan-id-identity), so a
 * roll-up groups spellings as the table's GROUP BY did.
 */
async function lanIdCollationFor(db: Kysely<any>): Promise<string> {
  const v = await sql<{ v: string }>`SELECT VERSION() AS v`.execute(db);
  return /mariadb/i.test(v.rows[0]?.v ?? '') ? 'utf8mb4_uca1400_nopad_as_ci' : 'utf8mb4_0900_as_ci';
}

export const RESULTS_PER_HOUR_VIEW = sql`
    SELECT r.lan_id AS lan_id,
           e.name AS employee_name,
           r.hour AS hour,
           NULLIF(r.result, '') AS result,
           rc.is_success AS is_success,
           r.snapshots AS snapshots
    FROM stream_result_hour r
    LEFT JOIN employee e ON e.lan_id = r.lan_id
    LEFT JOIN result_code rc ON rc.code = r.result
    WHERE r.snapshots > 0`;

export const RESULTS_PER_DAY_VIEW = sql`
    SELECT r.lan_id AS lan_id,
           e.name AS employee_name,
           r.day AS day,
           NULLIF(r.result, '') AS result,
           rc.is_success AS is_success,
           r.snapshots AS snapshots
    FROM stream_result_day r
    LEFT JOIN employee e ON e.lan_id = r.lan_id
    LEFT JOIN result_code rc ON rc.code = r.result
    WHERE r.snapshots > 0`;

export async function up(db: Kysely<any>): Promise<void> {
  const lanId = sql`varchar(64) CHARACTER SET utf8mb4 COLLATE ${sql.raw(await lanIdCollationFor(db))} NOT NULL`;
  await sql`CREATE TABLE IF NOT EXISTS rollup_state (
      name varchar(40) NOT NULL PRIMARY KEY,
      last_id bigint NOT NULL,
      seen_max bigint NOT NULL,
      updated_at datetime(3) NOT NULL DEFAULT (UTC_TIMESTAMP(3))
    ) ${TABLE_OPTIONS}`.execute(db);
  await sql`CREATE TABLE IF NOT EXISTS stream_rollup_row (
      stream_img_id bigint NOT NULL PRIMARY KEY,
      lan_id ${lanId},
      capture_time datetime(3) NOT NULL,
      counted_result varchar(40) NOT NULL,
      open tinyint NOT NULL,
      closing tinyint NOT NULL DEFAULT 0,
      new_result varchar(40) NULL,
      gone tinyint NOT NULL DEFAULT 0,
      KEY stream_rollup_row_open (open, stream_img_id)
    ) ${TABLE_OPTIONS}`.execute(db);
  await sql`CREATE TABLE IF NOT EXISTS stream_result_hour (
      lan_id ${lanId},
      hour datetime NOT NULL,
      result varchar(40) NOT NULL,
      snapshots bigint NOT NULL,
      PRIMARY KEY (lan_id, hour, result),
      KEY stream_result_hour_hour (hour)
    ) ${TABLE_OPTIONS}`.execute(db);
  await sql`CREATE TABLE IF NOT EXISTS stream_result_day (
      lan_id ${lanId},
      day date NOT NULL,
      result varchar(40) NOT NULL,
      snapshots bigint NOT NULL,
      PRIMARY KEY (lan_id, day, result),
      KEY stream_result_day_day (day)
    ) ${TABLE_OPTIONS}`.execute(db);
  await sql`INSERT IGNORE INTO rollup_state (name, last_id, seen_max) VALUES ('stream_result', 0, 0)`.execute(db);
  await sql`CREATE OR REPLACE SQL SECURITY DEFINER VIEW report_results_per_hour AS ${RESULTS_PER_HOUR_VIEW}`.execute(db);
  await sql`CREATE OR REPLACE SQL SECURITY DEFINER VIEW report_results_per_day AS ${RESULTS_PER_DAY_VIEW}`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP VIEW IF EXISTS report_results_per_day`.execute(db);
  await sql`CREATE OR REPLACE SQL SECURITY DEFINER VIEW report_results_per_hour AS ${REPORT_VIEWS.report_results_per_hour!}`.execute(db);
  for (const t of ['stream_result_day', 'stream_result_hour', 'stream_rollup_row', 'rollup_state']) await db.schema.dropTable(t).ifExists().execute();
}

import { sql, type Kysely } from 'kysely';
import { createIndexOnce, indexExists, lanIdColumnType, TABLE_OPTIONS } from '../migration-ddl.ts';

/**
 * The review queue's decisions (issue 28): a supervisor confirms an item (the verdict or
 * alert was right) or dismisses it (nothing to do, e.g. a bad frame). One row per item,
 * keyed by its kind and id, so a second decision meets the primary key; the queue's "open"
 * filter looks each row up by that key.
 *
 * - `kind`: `snapshot` (a `stream_img` id), `absence` (a `face_alert` id), `enrolment` (a
 *   `train_img` id). No foreign key: the id points at one of three tables. The decision
 *   outlives the row's retention, as the gallery's decisions do; delete-user removes it by
 *   `lan_id` (identity collation, as every lan_id column).
 *
 * And the indexes the queue's two new lists read in order, newest first, by keyset:
 * - `face_alert (kind, created_at)`: the absence alerts (InnoDB appends the id).
 * - `train_img (result, capture_time)`: the refused enrolments of one result; the four
 *   together walk `train_img_capture`, as the snapshots walk `stream_img_capture`.
 * Built in place: writes go on.
 *
 * Frozen with the other migrations: the columns are written here, not read from db/schema.ts.
 */
export async function up(db: Kysely<any>): Promise<void> {
  const lanId = await lanIdColumnType(db);
  await db.schema
    .createTable('review_decision')
    .ifNotExists()
    .addColumn('kind', sql`enum('snapshot','absence','enrolment')`, (c) => c.notNull())
    .addColumn('item_id', 'bigint', (c) => c.notNull())
    .addColumn('lan_id', lanId, (c) => c.notNull())
    .addColumn('decision', sql`enum('confirm','dismiss')`, (c) => c.notNull())
    .addColumn('decided_by', 'varchar(64)', (c) => c.notNull())
    .addColumn('decided_at', sql`datetime(3)`, (c) => c.notNull().defaultTo(sql`(UTC_TIMESTAMP(3))`))
    .addColumn('reason', 'text')
    .addPrimaryKeyConstraint('review_decision_pk', ['kind', 'item_id'])
    .modifyEnd(TABLE_OPTIONS)
    .execute();
  await createIndexOnce(db, 'review_decision', 'review_decision_lan', ['lan_id']);
  if (!(await indexExists(db, 'face_alert', 'face_alert_kind_created'))) {
    await sql`ALTER TABLE face_alert ADD INDEX face_alert_kind_created (kind, created_at), ALGORITHM=INPLACE, LOCK=NONE`.execute(db);
  }
  if (!(await indexExists(db, 'train_img', 'train_img_result_capture'))) {
    await sql`ALTER TABLE train_img ADD INDEX train_img_result_capture (result, capture_time), ALGORITHM=INPLACE, LOCK=NONE`.execute(db);
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  if (await indexExists(db, 'train_img', 'train_img_result_capture')) await sql`ALTER TABLE train_img DROP INDEX train_img_result_capture`.execute(db);
  if (await indexExists(db, 'face_alert', 'face_alert_kind_created')) await sql`ALTER TABLE face_alert DROP INDEX face_alert_kind_created`.execute(db);
  await db.schema.dropTable('review_decision').ifExists().execute();
}

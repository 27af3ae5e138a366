import { sql, type Kysely } from 'kysely';
import { createIndexOnce, lanIdColumnType, TABLE_OPTIONS } from '../migration-ddl.ts';

/**
 * The gallery and the people's decisions (issue 26, CONTRACT.md "Gallery"), and the console's
 * accounts (`vigil users`). The contract's tables stay as they are: a gallery face is a
 * `train_img` row with result SUCCESS; what people decided about it lives beside it.
 *
 * - `gallery_proposal`: a supervisor's proposal of a snapshot's face; approved by someone
 *   else, it names the `train_img` row it became.
 * - `gallery_removal`: a face taken out of the gallery (the row and its descriptor stay for
 *   the audit); undo deletes the removal.
 * - `not_this_face`: a snapshot's face a supervisor said is not the employee, with its
 *   descriptor and the model that made it.
 * - `employee_threshold`: an employee's own match threshold.
 * - `identity_distinct`: a team lead's decision that two employees whose faces are close
 *   are different people (twins, lookalikes), so the duplicate check lets them be.
 * - `stream_face`: every face the engine found in a snapshot (box, score, landmarks,
 *   quality, descriptor, model): what the dry run re-scores and the export writes out.
 * - `audit_log`: who did what and when, with the state before and after, never updated.
 * - `console_user`, `console_session`: local accounts (scrypt hashes) and their sessions.
 *
 * Frozen with the other migrations: the columns are written here, not read from db/schema.ts.
 */
export async function up(db: Kysely<any>): Promise<void> {
  const lanId = await lanIdColumnType(db);
  const person = 'varchar(64)';
  const at = sql`datetime(3)`;
  // UTC, as every time Vigil stamps (migration 20261207T0910-utc-defaults).
  const now = sql`(UTC_TIMESTAMP(3))`;

  await db.schema
    .createTable('gallery_proposal')
    .ifNotExists()
    .addColumn('id', 'bigint', (c) => c.primaryKey().autoIncrement())
    .addColumn('lan_id', lanId, (c) => c.notNull())
    // Kept when retention deletes the snapshot: the decision outlives it.
    .addColumn('stream_img_id', 'bigint', (c) => c.references('stream_img.id').onDelete('set null'))
    .addColumn('face_index', 'integer', (c) => c.notNull())
    .addColumn('proposed_by', person, (c) => c.notNull())
    .addColumn('proposed_at', at, (c) => c.notNull().defaultTo(now))
    .addColumn('status', sql`enum('pending','approved','rejected')`, (c) => c.notNull().defaultTo('pending'))
    .addColumn('decided_by', person)
    .addColumn('decided_at', at)
    .addColumn('reason', 'text')
    .addColumn('train_img_id', 'bigint', (c) => c.references('train_img.id').onDelete('set null'))
    .modifyEnd(TABLE_OPTIONS)
    .execute();
  await createIndexOnce(db, 'gallery_proposal', 'gallery_proposal_lan', ['lan_id', 'status', 'id']);
  await createIndexOnce(db, 'gallery_proposal', 'gallery_proposal_status', ['status', 'id']);
  await createIndexOnce(db, 'gallery_proposal', 'gallery_proposal_train', ['train_img_id']);

  await db.schema
    .createTable('gallery_removal')
    .ifNotExists()
    .addColumn('train_img_id', 'bigint', (c) => c.primaryKey().references('train_img.id').onDelete('cascade'))
    .addColumn('lan_id', lanId, (c) => c.notNull())
    .addColumn('removed_by', person, (c) => c.notNull())
    .addColumn('removed_at', at, (c) => c.notNull().defaultTo(now))
    .addColumn('reason', 'text')
    .modifyEnd(TABLE_OPTIONS)
    .execute();
  await createIndexOnce(db, 'gallery_removal', 'gallery_removal_lan', ['lan_id']);

  await db.schema
    .createTable('not_this_face')
    .ifNotExists()
    .addColumn('id', 'bigint', (c) => c.primaryKey().autoIncrement())
    .addColumn('lan_id', lanId, (c) => c.notNull())
    // The descriptor is kept here, so the decision outlives the snapshot's retention.
    .addColumn('stream_img_id', 'bigint', (c) => c.references('stream_img.id').onDelete('set null'))
    .addColumn('face_index', 'integer', (c) => c.notNull())
    .addColumn('model', 'varchar(100)', (c) => c.notNull())
    // 128 float32, little-endian.
    .addColumn('descriptor', sql`varbinary(512)`, (c) => c.notNull())
    .addColumn('recorded_by', person, (c) => c.notNull())
    .addColumn('recorded_at', at, (c) => c.notNull().defaultTo(now))
    .modifyEnd(TABLE_OPTIONS)
    .execute();
  await createIndexOnce(db, 'not_this_face', 'not_this_face_lan', ['lan_id', 'stream_img_id', 'face_index'], true);

  await db.schema
    .createTable('employee_threshold')
    .ifNotExists()
    .addColumn('lan_id', lanId, (c) => c.primaryKey())
    .addColumn('threshold', 'double precision', (c) => c.notNull())
    .addColumn('set_by', person, (c) => c.notNull())
    .addColumn('set_at', at, (c) => c.notNull().defaultTo(now))
    .addColumn('reason', 'text')
    .modifyEnd(TABLE_OPTIONS)
    .execute();

  await db.schema
    .createTable('identity_distinct')
    .ifNotExists()
    .addColumn('id', 'bigint', (c) => c.primaryKey().autoIncrement())
    .addColumn('lan_id', lanId, (c) => c.notNull())
    .addColumn('other_lan_id', lanId, (c) => c.notNull())
    .addColumn('train_img_id', 'bigint', (c) => c.references('train_img.id').onDelete('set null'))
    .addColumn('accepted_by', person, (c) => c.notNull())
    .addColumn('accepted_at', at, (c) => c.notNull().defaultTo(now))
    .addColumn('reason', 'text')
    .modifyEnd(TABLE_OPTIONS)
    .execute();
  await createIndexOnce(db, 'identity_distinct', 'identity_distinct_pair', ['lan_id', 'other_lan_id'], true);
  await createIndexOnce(db, 'identity_distinct', 'identity_distinct_other', ['other_lan_id']);

  await db.schema
    .createTable('stream_face')
    .ifNotExists()
    .addColumn('stream_img_id', 'bigint', (c) => c.notNull().references('stream_img.id').onDelete('cascade'))
    .addColumn('face_index', 'integer', (c) => c.notNull())
    .addColumn('lan_id', lanId, (c) => c.notNull())
    .addColumn('box', 'text', (c) => c.notNull())
    .addColumn('score', 'double precision', (c) => c.notNull())
    // 68 (x, y) float32 LE pairs in image pixels.
    .addColumn('landmarks', sql`varbinary(544)`)
    .addColumn('quality', 'text')
    .addColumn('model', 'varchar(100)', (c) => c.notNull())
    .addColumn('descriptor', sql`varbinary(512)`, (c) => c.notNull())
    .addPrimaryKeyConstraint('stream_face_pk', ['stream_img_id', 'face_index'])
    .modifyEnd(TABLE_OPTIONS)
    .execute();
  await createIndexOnce(db, 'stream_face', 'stream_face_lan', ['lan_id', 'stream_img_id']);

  await db.schema
    .createTable('audit_log')
    .ifNotExists()
    .addColumn('id', 'bigint', (c) => c.primaryKey().autoIncrement())
    .addColumn('at', at, (c) => c.notNull().defaultTo(now))
    .addColumn('actor', person, (c) => c.notNull())
    .addColumn('action', 'varchar(64)', (c) => c.notNull())
    .addColumn('lan_id', lanId)
    .addColumn('subject', 'varchar(100)')
    // JSON text.
    .addColumn('before_state', 'text')
    .addColumn('after_state', 'text')
    .modifyEnd(TABLE_OPTIONS)
    .execute();
  await createIndexOnce(db, 'audit_log', 'audit_log_at', ['at', 'id']);
  await createIndexOnce(db, 'audit_log', 'audit_log_lan', ['lan_id', 'id']);
  await createIndexOnce(db, 'audit_log', 'audit_log_actor', ['actor', 'id']);
  await createIndexOnce(db, 'audit_log', 'audit_log_action', ['action', 'id']);

  await db.schema
    .createTable('console_user')
    .ifNotExists()
    .addColumn('id', 'bigint', (c) => c.primaryKey().autoIncrement())
    .addColumn('name', person, (c) => c.notNull().unique())
    .addColumn('role', sql`enum('viewer','supervisor','teamlead','admin')`, (c) => c.notNull())
    .addColumn('password_hash', 'varchar(255)', (c) => c.notNull())
    .addColumn('created_at', at, (c) => c.notNull().defaultTo(now))
    .addColumn('disabled_at', at)
    .modifyEnd(TABLE_OPTIONS)
    .execute();

  await db.schema
    .createTable('console_session')
    .ifNotExists()
    // sha256 of the cookie's token, hex: a stolen table does not sign anyone in.
    .addColumn('id', sql`char(64)`, (c) => c.primaryKey())
    .addColumn('user_id', 'bigint', (c) => c.notNull().references('console_user.id').onDelete('cascade'))
    .addColumn('created_at', at, (c) => c.notNull().defaultTo(now))
    .addColumn('last_seen_at', at, (c) => c.notNull().defaultTo(now))
    .addColumn('csrf_token', sql`char(64)`, (c) => c.notNull())
    .modifyEnd(TABLE_OPTIONS)
    .execute();
  await createIndexOnce(db, 'console_session', 'console_session_user', ['user_id']);
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const t of ['console_session', 'console_user', 'audit_log', 'stream_face', 'identity_distinct', 'employee_threshold', 'not_this_face', 'gallery_removal', 'gallery_proposal']) {
    await db.schema.dropTable(t).ifExists().execute();
  }
}

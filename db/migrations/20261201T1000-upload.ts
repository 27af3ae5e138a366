import { sql, type Kysely } from 'kysely';
import { TABLE_OPTIONS, createIndexOnce } from '../migration-ddl.ts';

/**
 * The uploader's tables.
 *
 * `upload`: one row per source and target (`library`, `facebook`), found again by the
 * SHA-256 of `<job key>|<target>` when the job is redelivered or republished, so a target
 * that is done is never uploaded twice. The job itself is kept (JSON) so a postponed
 * target can be republished by the sweeper with nothing lost. A Facebook upload keeps its
 * session (video id, session id, the range it asked for next) to resume instead of starting again.
 *
 * `upload_notice`: the outbox of the speakers' emails, one row per job and speaker:
 * recorded when every target is done, published to the notifier, then marked.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('upload')
    .ifNotExists()
    .addColumn('id', 'bigint', (c) => c.primaryKey().autoIncrement())
    .addColumn('key_sha256', 'char(64)', (c) => c.notNull())
    // SHA-256 of the job key alone: the rows of one job, and its notices.
    .addColumn('job_key_sha256', 'char(64)', (c) => c.notNull())
    .addColumn('job_key', 'varchar(1100)', (c) => c.notNull())
    .addColumn('target', 'varchar(16)', (c) => c.notNull())
    .addColumn('source_bucket', 'varchar(63)', (c) => c.notNull())
    .addColumn('source_key', 'varchar(1024)', (c) => c.notNull())
    // pending | running | postponed | done | failed | dead_lettered
    .addColumn('status', 'varchar(16)', (c) => c.notNull().defaultTo('pending'))
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('postponements', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('next_attempt_at', sql`datetime(3)`)
    // The sweeper republished the job of this postponed row (its claim).
    .addColumn('republished_at', sql`datetime(3)`)
    .addColumn('job', sql`mediumtext`, (c) => c.notNull())
    .addColumn('source_etag', 'varchar(200)')
    .addColumn('source_bytes', 'bigint')
    .addColumn('remote_id', 'varchar(200)')
    .addColumn('url', 'varchar(2048)')
    .addColumn('fb_video_id', 'varchar(100)')
    .addColumn('fb_session_id', 'varchar(200)')
    .addColumn('fb_offset', 'bigint')
    .addColumn('fb_end_offset', 'bigint')
    .addColumn('last_error_code', 'varchar(64)')
    .addColumn('last_error', 'text')
    .addColumn('worker', 'varchar(128)')
    .addColumn('transfer_ms', 'integer')
    .addColumn('created_at', sql`datetime(3)`, (c) => c.notNull().defaultTo(sql`CURRENT_TIMESTAMP(3)`))
    .addColumn('started_at', sql`datetime(3)`)
    .addColumn('finished_at', sql`datetime(3)`)
    .modifyEnd(TABLE_OPTIONS)
    .execute();
  await createIndexOnce(db, 'upload', 'upload_key', ['key_sha256'], true);
  await createIndexOnce(db, 'upload', 'upload_job', ['job_key_sha256']);
  await createIndexOnce(db, 'upload', 'upload_due', ['status', 'next_attempt_at']);

  await db.schema
    .createTable('upload_notice')
    .ifNotExists()
    .addColumn('id', 'bigint', (c) => c.primaryKey().autoIncrement())
    .addColumn('job_key_sha256', 'char(64)', (c) => c.notNull())
    .addColumn('speaker_index', 'integer', (c) => c.notNull())
    // The notification as published (JSON), built once.
    .addColumn('notification', 'text', (c) => c.notNull())
    .addColumn('created_at', sql`datetime(3)`, (c) => c.notNull().defaultTo(sql`CURRENT_TIMESTAMP(3)`))
    .addColumn('published_at', sql`datetime(3)`)
    .modifyEnd(TABLE_OPTIONS)
    .execute();
  await createIndexOnce(db, 'upload_notice', 'upload_notice_speaker', ['job_key_sha256', 'speaker_index'], true);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('upload_notice').ifExists().execute();
  await db.schema.dropTable('upload').ifExists().execute();
}

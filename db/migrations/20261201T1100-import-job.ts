import { sql, type Kysely } from 'kysely';
import { TABLE_OPTIONS, createIndexOnce } from '../migration-ddl.ts';

/**
 * `vigil import`: a batch import of a folder of camera videos is a job (`import_job`)
 * split into shards of files (`import_shard`), each file a row (`import_file`) with its
 * own status, so a second run of the same import resumes where the first stopped.
 * A job is found again by the SHA-256 of what makes it the same import (the folder's real
 * path, the regex, the extensions, the bucket); a file by the SHA-256 of its path relative
 * to the folder (paths may be longer than an InnoDB index takes).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('import_job')
    .ifNotExists()
    // Short and printable (`vigil import status <id>`), random.
    .addColumn('id', 'varchar(16)', (c) => c.primaryKey())
    .addColumn('job_key_sha256', 'char(64)', (c) => c.notNull())
    .addColumn('directory', 'text', (c) => c.notNull())
    .addColumn('regex', 'text', (c) => c.notNull())
    // Comma-separated, lower case, without dots: `avi,mp4`.
    .addColumn('extensions', 'varchar(255)', (c) => c.notNull())
    .addColumn('bucket', 'varchar(63)', (c) => c.notNull())
    // JSON: the hook data of the last run (global settings and per-camera overrides).
    .addColumn('hook_data', sql`mediumtext`)
    // missing | uploading | uploaded | failed (from the shards)
    .addColumn('status', 'varchar(16)', (c) => c.notNull().defaultTo('missing'))
    .addColumn('runs', 'integer', (c) => c.notNull().defaultTo(0))
    // Names the regex did not match in the last run (they are never stored as files).
    .addColumn('unmatched', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', sql`datetime(3)`, (c) => c.notNull().defaultTo(sql`CURRENT_TIMESTAMP(3)`))
    .addColumn('updated_at', sql`datetime(3)`, (c) => c.notNull().defaultTo(sql`CURRENT_TIMESTAMP(3)`))
    .modifyEnd(TABLE_OPTIONS)
    .execute();
  await createIndexOnce(db, 'import_job', 'import_job_key', ['job_key_sha256'], true);

  await db.schema
    .createTable('import_shard')
    .ifNotExists()
    .addColumn('job_id', 'varchar(16)', (c) => c.notNull().references('import_job.id').onDelete('cascade'))
    .addColumn('shard_index', 'integer', (c) => c.notNull())
    .addColumn('item_count', 'integer', (c) => c.notNull())
    // missing | uploading | uploaded | failed
    .addColumn('status', 'varchar(16)', (c) => c.notNull().defaultTo('missing'))
    .addColumn('updated_at', sql`datetime(3)`, (c) => c.notNull().defaultTo(sql`CURRENT_TIMESTAMP(3)`))
    .addPrimaryKeyConstraint('import_shard_pk', ['job_id', 'shard_index'])
    .modifyEnd(TABLE_OPTIONS)
    .execute();

  await db.schema
    .createTable('import_file')
    .ifNotExists()
    .addColumn('id', 'bigint', (c) => c.primaryKey().autoIncrement())
    .addColumn('job_id', 'varchar(16)', (c) => c.notNull().references('import_job.id').onDelete('cascade'))
    .addColumn('shard_index', 'integer', (c) => c.notNull())
    .addColumn('rel_path_sha256', 'char(64)', (c) => c.notNull())
    // Relative to the job's directory, `/`-separated.
    .addColumn('rel_path', 'text', (c) => c.notNull())
    .addColumn('size', 'bigint', (c) => c.notNull())
    .addColumn('mtime_ms', 'bigint', (c) => c.notNull())
    .addColumn('camera', 'varchar(255)', (c) => c.notNull())
    .addColumn('epoch', 'bigint', (c) => c.notNull())
    .addColumn('object_key', 'varchar(1024)', (c) => c.notNull())
    // Of the whole content as uploaded, hex; null until uploaded.
    .addColumn('sha256', 'char(64)')
    .addColumn('etag', 'varchar(200)')
    // missing | uploading | uploaded | failed
    .addColumn('status', 'varchar(16)', (c) => c.notNull().defaultTo('missing'))
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('error_code', 'varchar(64)')
    .addColumn('last_error', 'text')
    .addColumn('created_at', sql`datetime(3)`, (c) => c.notNull().defaultTo(sql`CURRENT_TIMESTAMP(3)`))
    .addColumn('uploaded_at', sql`datetime(3)`)
    // The transcoder job was published (the outbox's second half).
    .addColumn('published_at', sql`datetime(3)`)
    .modifyEnd(TABLE_OPTIONS)
    .execute();
  await createIndexOnce(db, 'import_file', 'import_file_path', ['job_id', 'rel_path_sha256'], true);
  await createIndexOnce(db, 'import_file', 'import_file_shard', ['job_id', 'shard_index', 'status']);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('import_file').ifExists().execute();
  await db.schema.dropTable('import_shard').ifExists().execute();
  await db.schema.dropTable('import_job').ifExists().execute();
}

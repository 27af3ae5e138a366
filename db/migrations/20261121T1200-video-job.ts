import { sql, type Kysely } from 'kysely';

/**
 * The transcoder's job table: one row per video job, found again by its key when the
 * message is redelivered or republished. The key (`jobId`, or `s3:<bucket>/<key>`) may be
 * over 1,000 characters, beyond what an InnoDB index takes, so uniqueness is on its SHA-256.
 * Outputs are JSON in TEXT (MySQL 8 and MariaDB 10.11 alike).
 */
const TABLE_OPTIONS = sql`ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`;

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('video_job')
    .ifNotExists()
    .addColumn('id', 'bigint', (c) => c.primaryKey().autoIncrement())
    .addColumn('job_key_sha256', 'char(64)', (c) => c.notNull())
    .addColumn('job_key', 'varchar(1100)', (c) => c.notNull())
    .addColumn('source_bucket', 'varchar(63)', (c) => c.notNull())
    .addColumn('source_key', 'varchar(1024)', (c) => c.notNull())
    // queued | running | uploading | stored | done | failed | retrying | dead_lettered
    .addColumn('status', 'varchar(16)', (c) => c.notNull().defaultTo('queued'))
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    // The job as the last attempt ran it (JSON).
    .addColumn('job', sql`mediumtext`)
    .addColumn('source_etag', 'varchar(200)')
    .addColumn('source_bytes', 'bigint')
    .addColumn('source_seconds', 'double precision')
    // JSON: {"clips":[{bucket,key,startSeconds,endSeconds,bytes}],"frames":{bucket,prefix,every,count}}
    .addColumn('outputs', 'text')
    .addColumn('frames_kept', 'integer')
    .addColumn('frames_black', 'integer')
    .addColumn('frames_frozen', 'integer')
    .addColumn('frames_blurred', 'integer')
    .addColumn('download_ms', 'integer')
    .addColumn('ffmpeg_ms', 'integer')
    .addColumn('total_ms', 'integer')
    .addColumn('error_code', 'varchar(64)')
    .addColumn('error_message', 'text')
    .addColumn('worker', 'varchar(128)')
    .addColumn('created_at', sql`datetime(3)`, (c) => c.notNull().defaultTo(sql`CURRENT_TIMESTAMP(3)`))
    .addColumn('started_at', sql`datetime(3)`)
    .addColumn('finished_at', sql`datetime(3)`)
    .addColumn('source_deleted_at', sql`datetime(3)`)
    // The `then` job was published to its queue (the outbox's second half).
    .addColumn('next_published_at', sql`datetime(3)`)
    .modifyEnd(TABLE_OPTIONS)
    .execute();
  await createIndexOnce(db, 'video_job', 'video_job_key', ['job_key_sha256'], true);
  await createIndexOnce(db, 'video_job', 'video_job_status', ['status', 'created_at']);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('video_job').ifExists().execute();
}

async function createIndexOnce(db: Kysely<any>, table: string, name: string, columns: string[], unique = false): Promise<void> {
  const exists = await sql<{ n: number }>`
    SELECT COUNT(*) AS n FROM information_schema.STATISTICS
    WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ${table} AND INDEX_NAME = ${name}`.execute(db);
  if (Number(exists.rows[0]?.n ?? 0) > 0) return;
  let b = db.schema.createIndex(name).on(table).columns(columns);
  if (unique) b = b.unique();
  await b.execute();
}

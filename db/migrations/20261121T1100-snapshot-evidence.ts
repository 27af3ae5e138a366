import { sql, type Kysely } from 'kysely';

/**
 * What facestreaming keeps per judged snapshot to recognise a photo held to the camera
 * (`snapshot_face`), and the alerts it raised (`face_alert`, a transactional outbox: the
 * alert is committed with the result that caused it and published to `notifier` after).
 * Both go with their `stream_img` row (cascade), so deleting an employee's images deletes
 * their biometric traces too.
 */
const TABLE_OPTIONS = sql`ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`;

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('snapshot_face')
    .ifNotExists()
    .addColumn('stream_img_id', 'integer', (c) => c.primaryKey().references('stream_img.id').onDelete('cascade'))
    .addColumn('lan_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('capture_time', sql`datetime(3)`, (c) => c.notNull())
    // SHA-256 of the image bytes, hex: byte-identical snapshots are always suspicious.
    .addColumn('image_sha256', 'char(64)', (c) => c.notNull())
    // The face matched the employee (SUCCESS, SUCCESS_MULTIPLE_FACES, IMPERSONATION_SUSPECTED).
    .addColumn('matched', 'boolean', (c) => c.notNull())
    // The best-matching face: 128 float32 LE, and 68 landmarks relative to its box (x,y float32 LE).
    .addColumn('descriptor', sql`varbinary(512)`)
    .addColumn('landmarks', sql`varbinary(544)`)
    .addColumn('created_at', sql`datetime(3)`, (c) => c.notNull().defaultTo(sql`CURRENT_TIMESTAMP(3)`))
    .modifyEnd(TABLE_OPTIONS)
    .execute();
  await createIndexOnce(db, 'snapshot_face', 'snapshot_face_lan_time', ['lan_id', 'capture_time', 'stream_img_id']);

  await db.schema
    .createTable('face_alert')
    .ifNotExists()
    .addColumn('id', 'bigint', (c) => c.primaryKey().autoIncrement())
    .addColumn('lan_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('stream_img_id', 'integer', (c) => c.notNull().references('stream_img.id').onDelete('cascade'))
    // impersonation | absence | unknown_person
    .addColumn('kind', 'varchar(20)', (c) => c.notNull())
    // pending (to publish) | published | unrouted (no FACE_ALERT_TO configured)
    .addColumn('state', 'varchar(10)', (c) => c.notNull())
    // The notification body as published (JSON).
    .addColumn('notification', 'text', (c) => c.notNull())
    .addColumn('created_at', sql`datetime(3)`, (c) => c.notNull().defaultTo(sql`CURRENT_TIMESTAMP(3)`))
    .addColumn('published_at', sql`datetime(3)`)
    .modifyEnd(TABLE_OPTIONS)
    .execute();
  await createIndexOnce(db, 'face_alert', 'face_alert_stream_kind', ['stream_img_id', 'kind'], true);
  await createIndexOnce(db, 'face_alert', 'face_alert_state', ['state', 'created_at']);
  await createIndexOnce(db, 'face_alert', 'face_alert_lan', ['lan_id', 'created_at']);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('face_alert').ifExists().execute();
  await db.schema.dropTable('snapshot_face').ifExists().execute();
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

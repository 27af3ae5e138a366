import { sql, type Kysely } from 'kysely';

/**
 * The descriptor of each accepted enrolment, so verification never re-encodes the
 * enrolment photo. The model name is stored with it: descriptors of different models are
 * not comparable, and a model upgrade must be detectable.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('face_descriptor')
    .ifNotExists()
    .addColumn('id', 'bigint', (c) => c.primaryKey().autoIncrement())
    .addColumn('train_img_id', 'integer', (c) => c.notNull().unique().references('train_img.id').onDelete('cascade'))
    .addColumn('lan_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('model', 'varchar(100)', (c) => c.notNull())
    // 128 float32, little-endian.
    .addColumn('descriptor', sql`varbinary(512)`, (c) => c.notNull())
    .addColumn('box', 'text', (c) => c.notNull())
    .addColumn('score', 'double precision', (c) => c.notNull())
    .addColumn('quality', 'text', (c) => c.notNull())
    .addColumn('created_at', sql`datetime(3)`, (c) => c.notNull().defaultTo(sql`CURRENT_TIMESTAMP(3)`))
    .modifyEnd(sql`ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`)
    .execute();
  const exists = await sql<{ n: number }>`
    SELECT COUNT(*) AS n FROM information_schema.STATISTICS
    WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'face_descriptor' AND INDEX_NAME = 'face_descriptor_lan'`.execute(db);
  if (Number(exists.rows[0]?.n ?? 0) === 0) {
    await db.schema.createIndex('face_descriptor_lan').on('face_descriptor').columns(['lan_id', 'train_img_id']).execute();
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('face_descriptor').ifExists().execute();
}

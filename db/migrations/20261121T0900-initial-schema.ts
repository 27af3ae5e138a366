import { sql, type Kysely } from 'kysely';

/**
 * The contract's tables (CONTRACT.md, "Database"). Written against `Kysely<any>`: a
 * migration is history and must not change when the schema types do later.
 * Runs on MySQL 8 and MariaDB 10.11: no JSON column type (MariaDB's is LONGTEXT and MySQL's
 * comes back parsed, so `detail` is TEXT holding JSON), no functional defaults beyond
 * CURRENT_TIMESTAMP(3).
 */
const TABLE_OPTIONS = sql`ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`;
const NOW = sql`CURRENT_TIMESTAMP(3)`;

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('result_code')
    .ifNotExists()
    .addColumn('code', 'varchar(40)', (c) => c.primaryKey())
    .addColumn('description', 'varchar(255)', (c) => c.notNull())
    .addColumn('is_success', 'boolean', (c) => c.notNull().defaultTo(false))
    .modifyEnd(TABLE_OPTIONS)
    .execute();

  await db.schema
    .createTable('employee')
    .ifNotExists()
    .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
    .addColumn('lan_id', 'varchar(64)', (c) => c.notNull().unique())
    .addColumn('name', 'varchar(200)')
    .addColumn('email', 'varchar(320)')
    .addColumn('created_at', sql`datetime(3)`, (c) => c.notNull().defaultTo(NOW))
    .modifyEnd(TABLE_OPTIONS)
    .execute();

  await db.schema
    .createTable('train_img')
    .ifNotExists()
    .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
    .addColumn('lan_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('capture_time', sql`datetime(3)`, (c) => c.notNull().defaultTo(NOW))
    .addColumn('image', sql`longblob`)
    .addColumn('status', 'char(1)', (c) => c.notNull().defaultTo('N'))
    .addColumn('result', 'varchar(40)', (c) => c.references('result_code.code'))
    .addColumn('processed_time', sql`datetime(3)`)
    .addColumn('num_faces', 'integer')
    .modifyEnd(TABLE_OPTIONS)
    .execute();

  await db.schema
    .createTable('stream_img')
    .ifNotExists()
    .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
    .addColumn('lan_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('capture_time', sql`datetime(3)`, (c) => c.notNull().defaultTo(NOW))
    .addColumn('image', sql`longblob`)
    .addColumn('status', 'char(1)', (c) => c.notNull().defaultTo('N'))
    .addColumn('result', 'varchar(40)', (c) => c.references('result_code.code'))
    .addColumn('processed_time', sql`datetime(3)`)
    .addColumn('accuracy', 'double precision')
    .addColumn('distance', 'double precision')
    .addColumn('num_faces', 'integer')
    .addColumn('train_img_id', 'integer', (c) => c.references('train_img.id').onDelete('set null'))
    .modifyEnd(TABLE_OPTIONS)
    .execute();

  await db.schema
    .createTable('process_status')
    .ifNotExists()
    .addColumn('id', 'bigint', (c) => c.primaryKey().autoIncrement())
    .addColumn('image_type', 'varchar(6)', (c) => c.notNull())
    .addColumn('image_id', 'integer', (c) => c.notNull())
    .addColumn('status', 'char(1)', (c) => c.notNull())
    .addColumn('result', 'varchar(40)', (c) => c.references('result_code.code'))
    .addColumn('detail', 'text')
    .addColumn('attempt', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('worker', 'varchar(128)')
    .addColumn('started_at', sql`datetime(3)`, (c) => c.notNull().defaultTo(NOW))
    .addColumn('finished_at', sql`datetime(3)`)
    .modifyEnd(TABLE_OPTIONS)
    .execute();

  // Indexes for the services' queries (newest enrolment of a lan_id, rows stuck in N/P)
  // and the dashboards' (by lan_id, status, capture_time; see seed 004's Metabase queries).
  const indexes: [table: string, name: string, columns: string[]][] = [
    ['train_img', 'train_img_lan_status_id', ['lan_id', 'status', 'id']],
    ['train_img', 'train_img_status_capture', ['status', 'capture_time']],
    ['train_img', 'train_img_capture', ['capture_time']],
    ['stream_img', 'stream_img_lan_capture', ['lan_id', 'capture_time']],
    ['stream_img', 'stream_img_lan_status_id', ['lan_id', 'status', 'id']],
    ['stream_img', 'stream_img_status_capture', ['status', 'capture_time']],
    ['stream_img', 'stream_img_capture_result', ['capture_time', 'result']],
    ['process_status', 'process_status_image', ['image_type', 'image_id']],
    ['process_status', 'process_status_started', ['started_at']],
  ];
  for (const [table, name, columns] of indexes) {
    const exists = await sql<{ n: number }>`
      SELECT COUNT(*) AS n FROM information_schema.STATISTICS
      WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ${table} AND INDEX_NAME = ${name}`.execute(db);
    if (Number(exists.rows[0]?.n ?? 0) === 0) await db.schema.createIndex(name).on(table).columns(columns).execute();
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['process_status', 'stream_img', 'train_img', 'employee', 'result_code']) {
    await db.schema.dropTable(table).ifExists().execute();
  }
}

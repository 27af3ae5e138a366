import { sql, type Kysely } from 'kysely';

/**
 * `stream_img.id`, `train_img.id` and every column pointing at them become BIGINT (issue
 * 27): a signed 32-bit id runs out at 2.1 billion snapshots, three years at 1,000 agents.
 * Each table is copied once by the server (a change of type is never in place), one
 * ALTER per table with all its columns. Neither server changes a column a foreign key
 * uses, so the keys onto the two tables are dropped first and made again after, under the
 * same names and rules; foreign key checks are off for this session while they are made
 * again (the rows already satisfied them: nothing to check over millions of rows).
 * A table already converted is skipped, so a migration stopped half-way runs again.
 * How long it takes and how to run it on a live site: db/README.md, "Upgrading to BIGINT ids".
 *
 * Frozen with the other migrations: the columns are written here, not read from db/schema.ts.
 */
const COLUMNS: [table: string, column: string, definition: string][] = [
  ['train_img', 'id', 'bigint NOT NULL AUTO_INCREMENT'],
  ['stream_img', 'id', 'bigint NOT NULL AUTO_INCREMENT'],
  ['stream_img', 'train_img_id', 'bigint NULL'],
  ['face_descriptor', 'train_img_id', 'bigint NOT NULL'],
  ['snapshot_face', 'stream_img_id', 'bigint NOT NULL'],
  ['face_alert', 'stream_img_id', 'bigint NOT NULL'],
  ['process_status', 'image_id', 'bigint NOT NULL'],
];

export async function up(db: Kysely<any>): Promise<void> {
  await convert(db, 'bigint', COLUMNS);
}

export async function down(db: Kysely<any>): Promise<void> {
  await convert(db, 'int', COLUMNS.map(([t, c, d]) => [t, c, d.replace('bigint', 'int')]));
}

interface ForeignKey {
  table: string;
  name: string;
  column: string;
  refTable: string;
  refColumn: string;
  onDelete: string;
  onUpdate: string;
}

/** The foreign keys of the current database that point at train_img or stream_img. */
async function keysOntoImages(conn: Kysely<any>): Promise<ForeignKey[]> {
  const r = await sql<ForeignKey>`
    SELECT k.TABLE_NAME AS \`table\`, k.CONSTRAINT_NAME AS name, k.COLUMN_NAME AS \`column\`,
           k.REFERENCED_TABLE_NAME AS refTable, k.REFERENCED_COLUMN_NAME AS refColumn,
           c.DELETE_RULE AS onDelete, c.UPDATE_RULE AS onUpdate
    FROM information_schema.KEY_COLUMN_USAGE k
    JOIN information_schema.REFERENTIAL_CONSTRAINTS c ON c.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA AND c.CONSTRAINT_NAME = k.CONSTRAINT_NAME AND c.TABLE_NAME = k.TABLE_NAME
    WHERE k.TABLE_SCHEMA = DATABASE() AND k.REFERENCED_TABLE_NAME IN ('train_img', 'stream_img')`.execute(conn);
  return r.rows;
}

/**
 * The keys the earlier migrations made onto the two tables: made again even when a run
 * stopped after dropping them (a second run no longer finds them to read).
 */
const EXPECTED_KEYS: Omit<ForeignKey, 'name' | 'onUpdate'>[] = [
  { table: 'stream_img', column: 'train_img_id', refTable: 'train_img', refColumn: 'id', onDelete: 'SET NULL' },
  { table: 'face_descriptor', column: 'train_img_id', refTable: 'train_img', refColumn: 'id', onDelete: 'CASCADE' },
  { table: 'snapshot_face', column: 'stream_img_id', refTable: 'stream_img', refColumn: 'id', onDelete: 'CASCADE' },
  { table: 'face_alert', column: 'stream_img_id', refTable: 'stream_img', refColumn: 'id', onDelete: 'CASCADE' },
];

const RULES = new Set(['CASCADE', 'SET NULL', 'RESTRICT', 'NO ACTION', 'SET DEFAULT']);

async function convert(db: Kysely<any>, type: string, columns: typeof COLUMNS): Promise<void> {
  await db.connection().execute(async (conn) => {
    await sql`SET SESSION foreign_key_checks = 0`.execute(conn);
    try {
      const keys = await keysOntoImages(conn);
      for (const e of EXPECTED_KEYS) {
        if (!keys.some((k) => k.table === e.table && k.column === e.column)) keys.push({ ...e, name: `${e.table}_${e.column}_fk`, onUpdate: 'RESTRICT' });
      }
      for (const k of await keysOntoImages(conn)) await sql`ALTER TABLE ${sql.table(k.table)} DROP FOREIGN KEY ${sql.id(k.name)}`.execute(conn);
      for (const table of new Set(columns.map(([t]) => t))) {
        const current = await sql<{ c: string; t: string }>`
          SELECT COLUMN_NAME AS c, DATA_TYPE AS t FROM information_schema.COLUMNS
          WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ${table}`.execute(conn);
        const types = new Map(current.rows.map((r) => [r.c, r.t]));
        const todo = columns.filter(([t, c]) => t === table && types.has(c) && types.get(c) !== type);
        if (todo.length === 0) continue;
        const modify = todo.map(([, c, d]) => sql`MODIFY ${sql.ref(c)} ${sql.raw(d)}`);
        await sql`ALTER TABLE ${sql.table(table)} ${sql.join(modify)}`.execute(conn);
      }
      for (const k of keys) {
        const rule = (r: string) => sql.raw(RULES.has(r) ? r : 'RESTRICT');
        await sql`ALTER TABLE ${sql.table(k.table)} ADD CONSTRAINT ${sql.id(k.name)} FOREIGN KEY (${sql.ref(k.column)})
          REFERENCES ${sql.table(k.refTable)} (${sql.ref(k.refColumn)}) ON DELETE ${rule(k.onDelete)} ON UPDATE ${rule(k.onUpdate)}`.execute(conn);
      }
    } finally {
      await sql`SET SESSION foreign_key_checks = 1`.execute(conn);
    }
  });
}

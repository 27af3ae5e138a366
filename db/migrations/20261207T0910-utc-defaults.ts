import { sql, type Kysely } from 'kysely';

/**
 * Every DATETIME column that defaulted to CURRENT_TIMESTAMP now defaults to UTC_TIMESTAMP
 * (issue 22). CURRENT_TIMESTAMP is the inserting session's local time, and a DATETIME
 * keeps no zone: a producer inserting a stream_img from a `-05:00` session wrote a
 * capture_time five hours in the past, which the orphan rescue, retention and the digests
 * (UTC cut-offs) took as old at once. An expression default works on MariaDB 10.2+ and
 * MySQL 8.0.13+.
 *
 * The columns are found in information_schema rather than listed: every such default is
 * wrong the same way, whichever migration made it. TIMESTAMP columns are left alone (the
 * server stores them as UTC instants already), and so is an ON UPDATE clause, for which
 * neither server takes an expression (Vigil's own sessions run at +00:00, db/connection.ts).
 */
interface DefaultedColumn {
  table: string;
  column: string;
  type: string;
  nullable: string;
  extra: string;
}

async function columnsDefaultingTo(db: Kysely<any>, fn: 'current_timestamp' | 'utc_timestamp'): Promise<DefaultedColumn[]> {
  const rows = await sql<DefaultedColumn>`
    SELECT c.TABLE_NAME AS \`table\`, c.COLUMN_NAME AS \`column\`, c.COLUMN_TYPE AS type, c.IS_NULLABLE AS nullable, c.EXTRA AS extra
    FROM information_schema.COLUMNS c
    JOIN information_schema.TABLES t ON t.TABLE_SCHEMA = c.TABLE_SCHEMA AND t.TABLE_NAME = c.TABLE_NAME
    WHERE c.TABLE_SCHEMA = DATABASE() AND t.TABLE_TYPE = 'BASE TABLE' AND c.DATA_TYPE = 'datetime'
      AND LOWER(c.COLUMN_DEFAULT) LIKE ${`${fn}%`}
    ORDER BY c.TABLE_NAME, c.ORDINAL_POSITION`.execute(db);
  return rows.rows;
}

async function setDefault(db: Kysely<any>, c: DefaultedColumn, expr: 'UTC_TIMESTAMP' | 'CURRENT_TIMESTAMP'): Promise<void> {
  // The type comes from the server's own catalogue; checked all the same, as it is spliced in.
  const m = /^datetime(?:\((\d)\))?$/i.exec(c.type);
  if (!m) throw new Error(`${c.table}.${c.column}: unexpected column type ${c.type}`);
  const fsp = m[1] ?? '0';
  const onUpdate = /on update/i.test(c.extra) ? sql.raw(` ON UPDATE CURRENT_TIMESTAMP(${fsp})`) : sql``;
  const nullability = c.nullable === 'YES' ? sql`NULL` : sql`NOT NULL`;
  const value = expr === 'UTC_TIMESTAMP' ? sql.raw(`(UTC_TIMESTAMP(${fsp}))`) : sql.raw(`CURRENT_TIMESTAMP(${fsp})`);
  await sql`ALTER TABLE ${sql.table(c.table)} MODIFY ${sql.ref(c.column)} ${sql.raw(`datetime(${fsp})`)} ${nullability} DEFAULT ${value}${onUpdate}`.execute(db);
}

export async function up(db: Kysely<any>): Promise<void> {
  for (const c of await columnsDefaultingTo(db, 'current_timestamp')) await setDefault(db, c, 'UTC_TIMESTAMP');
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const c of await columnsDefaultingTo(db, 'utc_timestamp')) await setDefault(db, c, 'CURRENT_TIMESTAMP');
}

import { sql, type Kysely, type RawBuilder } from 'kysely';

/**
 * DDL pieces the migrations from 20261201T1000 on share. Migrations are append-only, so
 * what is here is frozen with them: a change of behaviour is a new function, never an edit
 * of one a migration already calls. (The earlier migrations keep their own copies.)
 */

/** InnoDB and utf8mb4 on MySQL 8 and MariaDB 10.11 alike, whatever the server's defaults. */
export const TABLE_OPTIONS = sql`ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`;

/**
 * Creates the index unless one of that name exists: neither server takes
 * `CREATE INDEX IF NOT EXISTS` in the same form, and a migration that stopped half-way
 * must be able to run again.
 */
export async function createIndexOnce(db: Kysely<any>, table: string, name: string, columns: string[], unique = false): Promise<void> {
  if (await indexExists(db, table, name)) return;
  let b = db.schema.createIndex(name).on(table).columns(columns);
  if (unique) b = b.unique();
  await b.execute();
}

/** Whether `table` of the current database has an index of that name. */
export async function indexExists(db: Kysely<any>, table: string, name: string): Promise<boolean> {
  const r = await sql<{ n: number }>`
    SELECT COUNT(*) AS n FROM information_schema.STATISTICS
    WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ${table} AND INDEX_NAME = ${name}`.execute(db);
  return Number(r.rows[0]?.n ?? 0) > 0;
}

/** Whether `table` of the current database has a column of that name. */
export async function columnExists(db: Kysely<any>, table: string, column: string): Promise<boolean> {
  const r = await sql<{ n: number }>`
    SELECT COUNT(*) AS n FROM information_schema.COLUMNS
    WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ${table} AND COLUMN_NAME = ${column}`.execute(db);
  return Number(r.rows[0]?.n ?? 0) > 0;
}

/**
 * The column type of a `lan_id` under the identity rule (migration 20261207T0900-lan-id-identity):
 * case-insensitive, accent- and space-sensitive, in the collation this server names it by.
 */
export async function lanIdColumnType(db: Kysely<any>): Promise<RawBuilder<unknown>> {
  const v = await sql<{ v: string }>`SELECT VERSION() AS v`.execute(db);
  const collation = /mariadb/i.test(v.rows[0]?.v ?? '') ? 'utf8mb4_uca1400_nopad_as_ci' : 'utf8mb4_0900_as_ci';
  return sql`varchar(64) CHARACTER SET utf8mb4 COLLATE ${sql.raw(collation)}`;
}

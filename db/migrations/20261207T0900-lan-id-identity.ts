import { sql, type Kysely } from 'kysely';

/**
 * The identity rule for `lan_id` (issue 22, shared/employee-lock-key.ts): case-insensitive,
 * accent-sensitive, and every space counts (NO PAD), on every column that holds one.
 * Before, utf8mb4_unicode_ci made `josé`, `JOSE` and `'jose '` one person to the
 * database while the employee lock told them apart, so `delete-user josé` removed
 * other people's rows.
 *
 * MariaDB has the rule as utf8mb4_uca1400_nopad_as_ci (10.10 on); MySQL 8 as
 * utf8mb4_0900_as_ci (every 0900 collation is NO PAD). MODIFY keeps the indexes, the
 * unique one on employee.lan_id included; the report views compare lan_id with lan_id
 * only, so they follow without a change.
 *
 * Frozen with the other migrations: the table list and column type are written here, not
 * read from db/schema.ts.
 */
const LAN_ID_TABLES = ['employee', 'train_img', 'stream_img', 'face_descriptor', 'snapshot_face', 'face_alert'] as const;

async function lanIdCollationFor(db: Kysely<any>): Promise<'utf8mb4_uca1400_nopad_as_ci' | 'utf8mb4_0900_as_ci'> {
  const v = await sql<{ v: string }>`SELECT VERSION() AS v`.execute(db);
  return /mariadb/i.test(v.rows[0]?.v ?? '') ? 'utf8mb4_uca1400_nopad_as_ci' : 'utf8mb4_0900_as_ci';
}

export async function up(db: Kysely<any>): Promise<void> {
  const collation = await lanIdCollationFor(db);
  for (const table of LAN_ID_TABLES) {
    await sql`ALTER TABLE ${sql.table(table)} MODIFY ${sql.ref('lan_id')} varchar(64) CHARACTER SET utf8mb4 COLLATE ${sql.raw(collation)} NOT NULL`.execute(db);
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of LAN_ID_TABLES) {
    await sql`ALTER TABLE ${sql.table(table)} MODIFY ${sql.ref('lan_id')} varchar(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci NOT NULL`.execute(db);
  }
}

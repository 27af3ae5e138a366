// Fills a scale bench database: employees, one enrolment each, and snapshot rows (with one
// attempt row each) written by INSERT … SELECT from MariaDB's SEQUENCE engine, a million
// per statement, so ten million take minutes, not hours.
import { sql, type Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';

export const EMPLOYEES = 10_000;
/** Seconds between two snapshots: ten million rows span about ten months of 2026. */
export const STEP_S = 2.5;
/** The first snapshot's capture time (UTC). */
export const START = '2026-01-01 00:00:00';
const CHUNK = 1_000_000;
/** The newest snapshots are left in `N`, as the rescue would find them after an outage. */
export const LEFT_NEW = 50;

export function lanIdOf(n: number): string {
  return `NA\\e${n}`;
}

export async function fillEmployees(db: Kysely<Database>): Promise<void> {
  await sql`INSERT INTO employee (lan_id, name, email)
    SELECT CONCAT('NA\\\\e', seq), CONCAT('Employee ', seq), CONCAT('e', seq, '@example.org') FROM seq_1_to_${sql.raw(String(EMPLOYEES))}`.execute(db);
  await sql`INSERT INTO train_img (lan_id, capture_time, status, result, processed_time, num_faces)
    SELECT CONCAT('NA\\\\e', seq), TIMESTAMP(${START}) - INTERVAL 1 DAY, 'Y', 'SUCCESS', TIMESTAMP(${START}) - INTERVAL 1 DAY, 1 FROM seq_1_to_${sql.raw(String(EMPLOYEES))}`.execute(db);
}

/**
 * Snapshots `from`+1 … `to` (sequence numbers, capture order = id order), processed, bytes
 * already removed by retention; results spread over the codes so every report has rows.
 */
export async function fillSnapshots(db: Kysely<Database>, from: number, to: number): Promise<void> {
  for (let lo = from; lo < to; lo += CHUNK) {
    const hi = Math.min(lo + CHUNK, to);
    // The result cycles on the sequence mixed with the employee's round, so no employee
    // always gets the same one.
    const pick = sql.raw(`((s.seq DIV ${EMPLOYEES}) * 37 + s.seq) % 100`);
    await sql`INSERT INTO stream_img (lan_id, capture_time, status, result, processed_time, accuracy, distance, num_faces, train_img_id)
      SELECT CONCAT('NA\\\\e', s.seq % ${sql.raw(String(EMPLOYEES))} + 1),
             TIMESTAMP(${START}) + INTERVAL s.seq * ${sql.raw(String(STEP_S * 1e6))} MICROSECOND,
             CASE WHEN ${pick} >= 98 THEN 'F' ELSE 'Y' END,
             CASE WHEN ${pick} < 85 THEN 'SUCCESS' WHEN ${pick} < 89 THEN 'SUCCESS_MULTIPLE_FACES'
                  WHEN ${pick} < 93 THEN 'UNKNOWN_PERSON' WHEN ${pick} < 96 THEN 'NO_FACES_FOUND'
                  WHEN ${pick} < 97 THEN 'UNKNOWN_MULTIPLE_FACES' WHEN ${pick} < 98 THEN 'IMPERSONATION_SUSPECTED'
                  WHEN ${pick} < 99 THEN 'INVALID_IMAGE' ELSE 'NO_TRAINING_IMAGE' END,
             TIMESTAMP(${START}) + INTERVAL s.seq * ${sql.raw(String(STEP_S * 1e6))} + 2000000 MICROSECOND,
             0.9, 0.35, 1, s.seq % ${sql.raw(String(EMPLOYEES))} + 1
      FROM seq_${sql.raw(String(lo + 1))}_to_${sql.raw(String(hi))} s
      ORDER BY s.seq`.execute(db);
    await sql`INSERT INTO process_status (image_type, image_id, status, result, attempt, worker, started_at, finished_at)
      SELECT 'stream', id, status, result, 1, 'bench', processed_time - INTERVAL 1 SECOND, processed_time
      FROM stream_img WHERE id > (SELECT COALESCE(MAX(image_id), 0) FROM process_status WHERE image_type = 'stream')
      ORDER BY id`.execute(db);
  }
}

/** Leaves the newest LEFT_NEW snapshots unjudged, as if facestreaming had been down. */
export async function leaveNewest(db: Kysely<Database>): Promise<void> {
  await sql`UPDATE stream_img SET status = 'N', result = NULL, processed_time = NULL ORDER BY id DESC LIMIT ${sql.raw(String(LEFT_NEW))}`.execute(db);
}

interface SecondaryIndex {
  table: string;
  name: string;
  /** With the prefix length of a prefix part (`image(1)`). */
  columns: { name: string; prefix: number | undefined }[];
  unique: boolean;
}

/**
 * Drops what secondary indexes of the big tables it may (a foreign key's own stays) and
 * gives back how to make them again: InnoDB builds an index from sorted rows many times
 * faster than it takes ten million random inserts into it with a small buffer pool.
 */
export async function dropSecondaryIndexes(db: Kysely<Database>, tables: string[]): Promise<SecondaryIndex[]> {
  const r = await sql<{ t: string; name: string; col: string; part: number | null; non_unique: number }>`
    SELECT TABLE_NAME AS t, INDEX_NAME AS name, COLUMN_NAME AS col, SUB_PART AS part, NON_UNIQUE AS non_unique
    FROM information_schema.STATISTICS
    WHERE TABLE_SCHEMA = DATABASE() AND INDEX_NAME <> 'PRIMARY' AND TABLE_NAME IN (${sql.join(tables)})
    ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX`.execute(db);
  const byName = new Map<string, SecondaryIndex>();
  for (const row of r.rows) {
    const key = `${row.t}.${row.name}`;
    if (!byName.has(key)) byName.set(key, { table: row.t, name: row.name, columns: [], unique: Number(row.non_unique) === 0 });
    byName.get(key)!.columns.push({ name: row.col, prefix: row.part === null ? undefined : Number(row.part) });
  }
  const dropped: SecondaryIndex[] = [];
  for (const ix of byName.values()) {
    try {
      await sql`ALTER TABLE ${sql.table(ix.table)} DROP INDEX ${sql.id(ix.name)}`.execute(db);
      dropped.push(ix);
    } catch (err) {
      // ER_DROP_INDEX_FK: a foreign key needs it; it stays.
      if ((err as { errno?: number }).errno !== 1553) throw err;
    }
  }
  return dropped;
}

export async function restoreIndexes(db: Kysely<Database>, indexes: SecondaryIndex[]): Promise<void> {
  for (const table of new Set(indexes.map((i) => i.table))) {
    const adds = indexes
      .filter((i) => i.table === table)
      .map((i) => sql`ADD ${sql.raw(i.unique ? 'UNIQUE ' : '')}INDEX ${sql.id(i.name)} (${sql.join(i.columns.map((c) => (c.prefix === undefined ? sql.id(c.name) : sql`${sql.id(c.name)}(${sql.raw(String(c.prefix))})`)))})`);
    await sql`ALTER TABLE ${sql.table(table)} ${sql.join(adds)}`.execute(db);
  }
}

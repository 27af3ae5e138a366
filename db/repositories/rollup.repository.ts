import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database } from '../schema.ts';

/**
 * The report roll-ups' bookkeeping (migration 20261208T0900-report-rollups): counts of
 * `stream_img` per employee, hour/day and result, advanced by id range under a watermark,
 * every step in the transaction that moves the watermark, so a run stopped anywhere or run
 * twice never counts a row twice.
 */
export interface RollupRepository {
  /**
   * Counts the next rows after the watermark, up to `upTo` (default: the highest id the
   * previous run saw) and at most `batch` of them; how many ids the watermark moved.
   */
  countNext(batch: number, upTo?: number): Promise<number>;
  /** Moves the counts of rows counted while unjudged to their verdict (or drops a deleted row's); how many. */
  closeJudged(): Promise<number>;
  /** Adds to `report_person` the employees and enrolled people it lacks (snapshots' people come with their counts). */
  notePeople(): Promise<void>;
  /** Remembers the newest id for the next run's `countNext`. */
  noteSeen(): Promise<void>;
  /** The last id counted. */
  watermark(): Promise<number>;
}

const NAME = 'stream_result';
const HOUR = sql`CAST(DATE_FORMAT(capture_time, '%Y-%m-%d %H:00:00') AS DATETIME)`;
const DAY = sql`CAST(capture_time AS DATE)`;
/** The roll-up tables and how each buckets a capture time. */
const TABLES = [
  { table: 'stream_result_hour', bucket: 'hour', of: HOUR },
  { table: 'stream_result_day', bucket: 'day', of: DAY },
] as const;

function bucketOf(t: (typeof TABLES)[number], alias: string) {
  const at = sql.ref(`${alias}.capture_time`);
  return t.bucket === 'hour' ? sql`CAST(DATE_FORMAT(${at}, '%Y-%m-%d %H:00:00') AS DATETIME)` : sql`CAST(${at} AS DATE)`;
}

export function rollupRepository(db: Kysely<Database>): RollupRepository {
  // READ COMMITTED: the INSERT … SELECT reads stream_img without share-locking the range,
  // so facestreaming's verdicts on those rows never wait for a run.
  const inTransaction = <T>(fn: (trx: Transaction<Database>) => Promise<T>) => db.transaction().setIsolationLevel('read committed').execute(fn);
  const lockState = async (trx: Transaction<Database>) => {
    const r = await sql<{ last_id: string | number; seen_max: string | number }>`SELECT last_id, seen_max FROM rollup_state WHERE name = ${NAME} FOR UPDATE`.execute(trx);
    const row = r.rows[0];
    if (!row) throw new Error('rollup_state has no stream_result row: run vigil migrate');
    return { lastId: Number(row.last_id), seenMax: Number(row.seen_max) };
  };
  return {
    countNext: (batch, upTo) =>
      inTransaction(async (trx) => {
        const { lastId, seenMax } = await lockState(trx);
        const to = Math.min(upTo ?? seenMax, lastId + batch);
        if (to <= lastId) return 0;
        // Unjudged rows are copied first, with the result they are counted under now; a
        // judged row is final, so the rest are read from the table as they are.
        await sql`INSERT INTO stream_rollup_row (stream_img_id, lan_id, capture_time, counted_result, open)
          SELECT id, lan_id, capture_time, COALESCE(result, ''), 1
          FROM stream_img WHERE id > ${lastId} AND id <= ${to} AND status IN ('N', 'P')`.execute(trx);
        for (const t of TABLES) {
          await sql`INSERT INTO ${sql.table(t.table)} (lan_id, ${sql.ref(t.bucket)}, result, snapshots)
            SELECT lan_id, b, r, COUNT(*) FROM (
              SELECT s.lan_id, ${bucketOf(t, 's')} AS b, COALESCE(s.result, '') AS r FROM stream_img s
              WHERE s.id > ${lastId} AND s.id <= ${to}
                AND NOT EXISTS (SELECT 1 FROM stream_rollup_row o WHERE o.stream_img_id = s.id)
              UNION ALL
              SELECT o.lan_id, ${bucketOf(t, 'o')}, o.counted_result FROM stream_rollup_row o
              WHERE o.stream_img_id > ${lastId} AND o.stream_img_id <= ${to}
            ) n
            GROUP BY lan_id, b, r
            ON DUPLICATE KEY UPDATE snapshots = snapshots + VALUES(snapshots)`.execute(trx);
        }
        await sql`INSERT IGNORE INTO report_person (lan_id) SELECT DISTINCT lan_id FROM stream_img WHERE id > ${lastId} AND id <= ${to}`.execute(trx);
        await sql`UPDATE rollup_state SET last_id = ${to}, updated_at = UTC_TIMESTAMP(3) WHERE name = ${NAME}`.execute(trx);
        return to - lastId;
      }),
    closeJudged: () =>
      inTransaction(async (trx) => {
        await lockState(trx);
        // One statement marks each open row with its verdict as read now; every count below
        // comes from that mark, whatever lands on stream_img meanwhile.
        const marked = await sql`UPDATE stream_rollup_row o LEFT JOIN stream_img s ON s.id = o.stream_img_id
          SET o.closing = 1, o.gone = (s.id IS NULL), o.new_result = COALESCE(s.result, '')
          WHERE o.open = 1 AND (s.id IS NULL OR s.status IN ('Y', 'F'))`.execute(trx);
        const n = Number(marked.numAffectedRows ?? 0);
        if (n === 0) return 0;
        for (const t of TABLES) {
          await sql`UPDATE ${sql.table(t.table)} r JOIN (
              SELECT lan_id, ${t.of} AS b, counted_result, COUNT(*) AS n FROM stream_rollup_row WHERE closing = 1 GROUP BY lan_id, ${t.of}, counted_result
            ) d ON r.lan_id = d.lan_id AND r.${sql.ref(t.bucket)} = d.b AND r.result = d.counted_result
            SET r.snapshots = r.snapshots - d.n`.execute(trx);
          await sql`INSERT INTO ${sql.table(t.table)} (lan_id, ${sql.ref(t.bucket)}, result, snapshots)
            SELECT lan_id, ${t.of}, new_result, COUNT(*) FROM stream_rollup_row WHERE closing = 1 AND gone = 0
            GROUP BY lan_id, ${t.of}, new_result
            ON DUPLICATE KEY UPDATE snapshots = snapshots + VALUES(snapshots)`.execute(trx);
        }
        await sql`DELETE FROM stream_rollup_row WHERE closing = 1`.execute(trx);
        return n;
      }),
    notePeople: () =>
      // Under the roll-ups' lock, like every write to report_person: two runs at once wait
      // for each other instead of deadlocking on its gaps.
      inTransaction(async (trx) => {
        await lockState(trx);
        // employee holds one row per person: a look-up each. train_img grows with every
        // enrolment and gallery addition: only those after the last run's (its own watermark).
        await sql`INSERT IGNORE INTO report_person (lan_id)
          SELECT e.lan_id FROM employee e WHERE NOT EXISTS (SELECT 1 FROM report_person p WHERE p.lan_id = e.lan_id)`.execute(trx);
        const r = await sql<{ last_id: string | number }>`SELECT last_id FROM rollup_state WHERE name = 'report_person_train'`.execute(trx);
        const last = Number(r.rows[0]?.last_id ?? 0);
        const m = await sql<{ m: string | number | null }>`SELECT MAX(id) AS m FROM train_img`.execute(trx);
        const to = Number(m.rows[0]?.m ?? 0);
        if (to <= last) return;
        await sql`INSERT IGNORE INTO report_person (lan_id) SELECT DISTINCT lan_id FROM train_img WHERE id > ${last} AND id <= ${to}`.execute(trx);
        await sql`UPDATE rollup_state SET last_id = ${to}, updated_at = UTC_TIMESTAMP(3) WHERE name = 'report_person_train'`.execute(trx);
      }),
    async noteSeen() {
      await sql`UPDATE rollup_state SET seen_max = GREATEST(seen_max, (SELECT COALESCE(MAX(id), 0) FROM stream_img)) WHERE name = ${NAME}`.execute(db);
    },
    async watermark() {
      const r = await sql<{ last_id: string | number }>`SELECT last_id FROM rollup_state WHERE name = ${NAME}`.execute(db);
      return Number(r.rows[0]?.last_id ?? 0);
    },
  };
}

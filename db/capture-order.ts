import { sql, type RawBuilder, type SqlBool } from 'kysely';

/**
 * Keyset conditions in capture order: capture_time, then the id for snapshots taken in the
 * same millisecond. Written as a row comparison; the same condition as
 * `a < x OR (a = x AND b < y)` made the optimizer estimate its ranges in the index first,
 * which grew with the table (0.37 → 0.20 ms at a million snapshots, where an empty table's
 * took 0.36). MariaDB makes no range of the row comparison itself, so capture_time is also
 * bounded alone: without it a page walked the index from the newest row down to the cursor,
 * as OFFSET would (the review queue 100 pages deep: 227 ms and 84,179 rows read at a million
 * snapshots; 1.3 ms and 804 rows with the bound, `npm run bench -- console`).
 */
export function capturedBefore(captureTime: Date, id: number, columns: CaptureColumns = DEFAULT_COLUMNS): RawBuilder<SqlBool> {
  const t = sql.ref(columns.captureTime);
  return sql<SqlBool>`(${t} <= ${captureTime} AND (${t}, ${sql.ref(columns.id)}) < (${captureTime}, ${id}))`;
}

/** The other way: rows captured after the cursor, for pages read oldest first. */
export function capturedAfter(captureTime: Date, id: number, columns: CaptureColumns = DEFAULT_COLUMNS): RawBuilder<SqlBool> {
  const t = sql.ref(columns.captureTime);
  return sql<SqlBool>`(${t} >= ${captureTime} AND (${t}, ${sql.ref(columns.id)}) > (${captureTime}, ${id}))`;
}

/** The column names, qualified when the query aliases its table (`s.capture_time`). */
export interface CaptureColumns {
  captureTime: string;
  id: string;
}

const DEFAULT_COLUMNS: CaptureColumns = { captureTime: 'capture_time', id: 'id' };

import { sql, type Kysely } from 'kysely';
import type { Database, FaceAlertKind, FaceAlertState } from '../schema.ts';

export interface EmployeeAlertRow {
  id: number;
  streamImgId: number;
  kind: FaceAlertKind;
  state: FaceAlertState;
  createdAt: Date;
}

/** One day's count of one result (`day` is `YYYY-MM-DD`, UTC). */
export interface ResultsPerDayRow {
  day: string;
  result: string;
  count: number;
}

/**
 * The console's employee pages' reads: who is known, their results per day and their
 * alerts. A lan_id matches under the columns' identity rule (case-insensitive,
 * accent- and space-sensitive), like every other query of one.
 */
export interface EmployeeRepository {
  /**
   * The lan_ids that have an enrolment (`train_img`), in the columns' order, starting
   * with `prefix`, strictly after `after` (keyset paging), `limit` of them. Spellings one
   * identity shares come back once.
   */
  search(f: { prefix: string; after?: string; limit: number }): Promise<string[]>;
  /** Whether any enrolment or snapshot row has the lan_id. */
  known(lanId: string): Promise<boolean>;
  /** The employee's judged snapshots in [from, to), counted per UTC day and result. */
  resultsPerDay(lanId: string, from: Date, to: Date): Promise<ResultsPerDayRow[]>;
  /** The employee's alerts, newest first. */
  alerts(lanId: string, limit: number): Promise<EmployeeAlertRow[]>;
}

/** LIKE's wildcards and the escape character itself, escaped with `!` (a backslash is common in a lan_id). */
export function likePrefix(prefix: string): string {
  return `${prefix.replace(/[!%_]/g, (c) => `!${c}`)}%`;
}

export function employeeRepository(db: Kysely<Database>): EmployeeRepository {
  return {
    async search(f) {
      const rows = await searchQuery(db, f).execute();
      return rows.map((r) => r.lan_id);
    },
    async known(lanId) {
      // Each probe reads one entry of an index that starts with lan_id.
      const [train, stream] = await Promise.all([
        db.selectFrom('train_img').select('id').where('lan_id', '=', lanId).limit(1).executeTakeFirst(),
        db.selectFrom('stream_img').select('id').where('lan_id', '=', lanId).limit(1).executeTakeFirst(),
      ]);
      return train !== undefined || stream !== undefined;
    },
    async resultsPerDay(lanId, from, to) {
      const rows = await resultsPerDayQuery(db, lanId, from, to).execute();
      return rows.map((r) => ({ day: r.day, result: r.result as string, count: Number(r.n) }));
    },
    async alerts(lanId, limit) {
      const rows = await db
        .selectFrom('face_alert')
        .select(['id', 'stream_img_id', 'kind', 'state', 'created_at'])
        .where('lan_id', '=', lanId)
        .orderBy('created_at', 'desc')
        .orderBy('id', 'desc')
        .limit(limit)
        .execute();
      return rows.map((r) => ({ id: Number(r.id), streamImgId: Number(r.stream_img_id), kind: r.kind, state: r.state, createdAt: r.created_at }));
    },
  };
}

/**
 * The employee search's statement: distinct lan_ids of `train_img` read in order from its
 * index that starts with lan_id (`train_img_lan_status_id`), a keyset cursor, never OFFSET.
 */
export function searchQuery(db: Kysely<Database>, f: { prefix: string; after?: string; limit: number }) {
  let q = db.selectFrom('train_img').select('lan_id').distinct();
  if (f.prefix !== '') q = q.where(sql<boolean>`lan_id LIKE ${likePrefix(f.prefix)} ESCAPE '!'`);
  if (f.after !== undefined) q = q.where('lan_id', '>', f.after);
  return q.orderBy('lan_id').limit(f.limit);
}

/** One GROUP BY over the range of `stream_img_lan_capture_result` (lan_id, capture_time, id, result): the index alone answers it. */
export function resultsPerDayQuery(db: Kysely<Database>, lanId: string, from: Date, to: Date) {
  const day = sql<string>`CAST(DATE(capture_time) AS CHAR)`;
  return db
    .selectFrom('stream_img')
    .select([day.as('day'), 'result', sql<number>`COUNT(*)`.as('n')])
    .where('lan_id', '=', lanId)
    .where('capture_time', '>=', from)
    .where('capture_time', '<', to)
    .where('result', 'is not', null)
    .groupBy([sql`DATE(capture_time)`, 'result']);
}

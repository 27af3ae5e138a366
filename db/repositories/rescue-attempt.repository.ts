import type { Kysely } from 'kysely';
import type { Database, RescueKind } from '../schema.ts';

export interface RescueRecord {
  attempts: number;
  nextAt: Date;
}

/** The orphan rescue's back-off record (`rescue_attempt`), read and written a page of ids at a time. */
export interface RescueAttemptRepository {
  /** The records of those of `ids` the rescue republished before. */
  recordsOf(kind: RescueKind, ids: readonly number[]): Promise<Map<number, RescueRecord>>;
  /** After a republish: sets the row's count, when it was and when it may be again. */
  recordRescue(kind: RescueKind, id: number, r: { attempts: number; at: Date; nextAt: Date }): Promise<void>;
  /**
   * Forgets the rows with an id in (`afterId`, `throughId`] (no upper bound when undefined)
   * other than `stillStuck`: the rescue's query no longer finds them, so they moved (were
   * processed, deleted, or taken up by a worker again).
   */
  forgetMoved(kind: RescueKind, afterId: number, throughId: number | undefined, stillStuck: readonly number[]): Promise<number>;
}

export function rescueAttemptRepository(db: Kysely<Database>): RescueAttemptRepository {
  return {
    async recordsOf(kind, ids) {
      if (ids.length === 0) return new Map();
      const rows = await db.selectFrom('rescue_attempt').select(['row_id', 'attempts', 'next_at']).where('kind', '=', kind).where('row_id', 'in', ids).execute();
      return new Map(rows.map((r) => [Number(r.row_id), { attempts: r.attempts, nextAt: r.next_at }]));
    },
    async recordRescue(kind, id, r) {
      await db
        .insertInto('rescue_attempt')
        .values({ kind, row_id: id, attempts: r.attempts, last_at: r.at, next_at: r.nextAt })
        .onDuplicateKeyUpdate({ attempts: r.attempts, last_at: r.at, next_at: r.nextAt })
        .execute();
    },
    async forgetMoved(kind, afterId, throughId, stillStuck) {
      let q = db.deleteFrom('rescue_attempt').where('kind', '=', kind).where('row_id', '>', afterId);
      if (throughId !== undefined) q = q.where('row_id', '<=', throughId);
      if (stillStuck.length > 0) q = q.where('row_id', 'not in', stillStuck);
      const r = await q.executeTakeFirst();
      return Number(r.numDeletedRows);
    },
  };
}

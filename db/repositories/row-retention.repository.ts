import { sql, type Kysely } from 'kysely';
import type { Database } from '../schema.ts';

/** Row retention (`VIGIL_STREAM_ROW_RETENTION_DAYS`): the upkeep's deletes of old snapshot rows. */
export interface RowRetentionRepository {
  /**
   * Deletes up to `limit` judged snapshots captured before `cutoff` that the report
   * roll-ups already counted, with their attempts (and, by their keys, their traces and
   * alerts), oldest first, in one short transaction; how many.
   */
  deleteOldSnapshots(cutoff: Date, limit: number): Promise<number>;
}

export function rowRetentionRepository(db: Kysely<Database>): RowRetentionRepository {
  return {
    deleteOldSnapshots: (cutoff, limit) =>
      db.transaction().execute(async (trx) => {
        // Oldest first on the capture_time index: rows already deleted are not read again,
        // so a batch costs the same in the first year and the tenth. Only rows below the
        // roll-ups' watermark: their counts are kept, the reports lose nothing.
        const found = await sql<{ id: number | string }>`
          SELECT id FROM stream_img
          WHERE capture_time < ${cutoff} AND status IN ('Y', 'F')
            AND id <= (SELECT last_id FROM rollup_state WHERE name = 'stream_result')
          ORDER BY capture_time
          LIMIT ${limit}
          FOR UPDATE`.execute(trx);
        const ids = found.rows.map((r) => Number(r.id));
        if (ids.length === 0) return 0;
        await trx.deleteFrom('process_status').where('image_type', '=', 'stream').where('image_id', 'in', ids).execute();
        const r = await trx.deleteFrom('stream_img').where('id', 'in', ids).executeTakeFirst();
        return Number(r.numDeletedRows);
      }),
  };
}

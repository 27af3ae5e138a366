import type { Kysely } from 'kysely';
import type { Database } from '../schema.ts';

/** The scheduled upkeep's queries (services/upkeep/jobs.ts). */
export interface UpkeepRepository {
  /**
   * What awaits review since `since`: snapshots judged `UNKNOWN_PERSON` or
   * `IMPERSONATION_SUSPECTED`, by result, and enrolments that failed (`ENROLMENT_FAILED`).
   */
  workPendingCounts(since: Date): Promise<Record<string, number>>;
  /** Alerts the rate limit folded (for all or some recipients) since `since`. */
  foldedAlertsSince(since: Date): Promise<number>;
  /** Removes the image bytes of up to `limit` processed snapshots older than `cutoff`; how many. */
  removeOldStreamImages(cutoff: Date, limit: number): Promise<number>;
}

export function upkeepRepository(db: Kysely<Database>): UpkeepRepository {
  return {
    async workPendingCounts(since) {
      const snapshots = await db
        .selectFrom('stream_img')
        .select(['result', (eb) => eb.fn.countAll<number>().as('n')])
        .where('result', 'in', ['UNKNOWN_PERSON', 'IMPERSONATION_SUSPECTED'])
        .where('processed_time', '>=', since)
        .groupBy('result')
        .execute();
      const enrolments = await db
        .selectFrom('train_img')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('status', 'in', ['Y', 'F'])
        .where('result', 'is not', null)
        .where('result', '!=', 'SUCCESS')
        .where('processed_time', '>=', since)
        .executeTakeFirstOrThrow();
      const counts: Record<string, number> = {};
      for (const r of snapshots) if (Number(r.n) > 0) counts[r.result!] = Number(r.n);
      if (Number(enrolments.n) > 0) counts.ENROLMENT_FAILED = Number(enrolments.n);
      return counts;
    },
    async foldedAlertsSince(since) {
      const r = await db
        .selectFrom('notification')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        // Folded whole, or for some of its recipients.
        .where('folded_to', 'is not', null)
        .where('created_at', '>=', since)
        .executeTakeFirstOrThrow();
      return Number(r.n);
    },
    async removeOldStreamImages(cutoff, limit) {
      const r = await db
        .updateTable('stream_img')
        .set({ image: null })
        .where('status', 'in', ['Y', 'F'])
        .where('processed_time', '<', cutoff)
        .where('image', 'is not', null)
        .limit(limit)
        .executeTakeFirst();
      return Number(r.numUpdatedRows);
    },
  };
}

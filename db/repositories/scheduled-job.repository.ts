import { sql, type Kysely } from 'kysely';
import type { Database } from '../schema.ts';

export interface LastRun {
  startedAt: Date;
  state: string | null;
}

/** The scheduler's queries; called only under the job's lock. */
export interface ScheduledJobRepository {
  lastRun(name: string): Promise<LastRun | undefined>;
  recordStart(name: string, r: { startedAt: Date; runner: string }): Promise<void>;
  recordFinish(name: string, r: { finishedAt: Date; state: string | null | undefined; errorCode?: string; errorMessage?: string }): Promise<void>;
}

export function scheduledJobRepository(db: Kysely<Database>): ScheduledJobRepository {
  return {
    async lastRun(name) {
      const r = await db.selectFrom('scheduled_job').select(['started_at', 'state']).where('name', '=', name).executeTakeFirst();
      return r && { startedAt: r.started_at, state: r.state };
    },
    async recordStart(name, r) {
      await db
        .insertInto('scheduled_job')
        .values({ name, started_at: r.startedAt, runner: r.runner, runs: 1 })
        .onDuplicateKeyUpdate({ started_at: r.startedAt, runner: r.runner, finished_at: null, runs: sql`runs + 1` })
        .execute();
    },
    async recordFinish(name, r) {
      await db
        .updateTable('scheduled_job')
        .set({
          finished_at: r.finishedAt,
          error_code: r.errorCode ?? null,
          error_message: r.errorMessage?.slice(0, 4000) ?? null,
          ...(r.state === undefined ? {} : { state: r.state }),
        })
        .where('name', '=', name)
        .execute();
    },
  };
}

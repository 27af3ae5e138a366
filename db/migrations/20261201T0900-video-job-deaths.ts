import type { Kysely } from 'kysely';

/**
 * `video_job.deaths`: how many times a process died while running the job (the row still
 * said `running` or `uploading` when the next delivery got the job's lock). A job that
 * kills every process it reaches is failed for good after a few, instead of looping until
 * the broker's delivery limit with the row left `running`.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('video_job').addColumn('deaths', 'integer', (c) => c.notNull().defaultTo(0)).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('video_job').dropColumn('deaths').execute();
}

import { sql, type Kysely } from 'kysely';

/**
 * `import_job.runner` and `run_started_at`: which run of `vigil import` holds the job now
 * (`pid 4242 on host-a`) and since when, so a second run refused by the job's lock can say
 * which one runs. Informative only: whether a run is alive is the lock's to say (it is freed
 * when the process dies), so a run killed with SIGKILL leaves these set and nothing breaks.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('import_job')
    .addColumn('runner', 'varchar(255)')
    .addColumn('run_started_at', sql`datetime(3)`)
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('import_job').dropColumn('runner').dropColumn('run_started_at').execute();
}

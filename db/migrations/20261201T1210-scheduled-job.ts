import { sql, type Kysely } from 'kysely';
import { TABLE_OPTIONS } from '../migration-ddl.ts';

/**
 * `scheduled_job`: one row per named upkeep job (orphan rescue, digest, dead-letter check,
 * retention), read and written under the job's cluster-wide lock, so a job runs once per
 * interval however many replicas run the scheduler. `state` is what the job keeps from
 * one run to the next (JSON: the counts it last alerted on).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('scheduled_job')
    .ifNotExists()
    .addColumn('name', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('started_at', sql`datetime(3)`, (c) => c.notNull())
    .addColumn('finished_at', sql`datetime(3)`)
    .addColumn('runner', 'varchar(128)', (c) => c.notNull())
    .addColumn('runs', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('state', 'text')
    .addColumn('error_code', 'varchar(64)')
    .addColumn('error_message', 'text')
    .modifyEnd(TABLE_OPTIONS)
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('scheduled_job').ifExists().execute();
}

import { sql, type Kysely } from 'kysely';
import { TABLE_OPTIONS } from '../migration-ddl.ts';

/**
 * `rescue_attempt`: what the orphan rescue republished and when it may again, one row per
 * stuck row it acted on (`kind` is `train`, `stream` or `video`, `row_id` that table's id).
 * While a consumer is down the rescue would otherwise republish every stuck row at every
 * interval; with this record it backs off (1, 2, 4, … intervals), and it forgets the row
 * once the row moves. A table of its own: the contract's tables stay as they are.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('rescue_attempt')
    .ifNotExists()
    .addColumn('kind', 'varchar(16)', (c) => c.notNull())
    .addColumn('row_id', 'bigint', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull())
    .addColumn('last_at', sql`datetime(3)`, (c) => c.notNull())
    .addColumn('next_at', sql`datetime(3)`, (c) => c.notNull())
    .addPrimaryKeyConstraint('rescue_attempt_pk', ['kind', 'row_id'])
    .modifyEnd(TABLE_OPTIONS)
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('rescue_attempt').ifExists().execute();
}

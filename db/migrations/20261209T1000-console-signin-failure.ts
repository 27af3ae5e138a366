import { sql, type Kysely } from 'kysely';
import { TABLE_OPTIONS } from '../migration-ddl.ts';

/**
 * `console_signin_failure`: the console's failed sign-ins, counted per account name and per
 * client address in the database, so every console replica throttles alike (issue 28).
 * `key` is the sha256 (hex) of the name or address: a password typed into the name field
 * is not kept. A row whose window has passed counts from zero again.
 *
 * Frozen with the other migrations: the columns are written here, not read from db/schema.ts.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('console_signin_failure')
    .ifNotExists()
    .addColumn('kind', sql`enum('account','address')`, (c) => c.notNull())
    .addColumn('key', sql`char(64)`, (c) => c.notNull())
    .addColumn('failures', 'integer', (c) => c.notNull())
    .addColumn('window_start', sql`datetime(3)`, (c) => c.notNull().defaultTo(sql`(UTC_TIMESTAMP(3))`))
    .addColumn('locked_until', sql`datetime(3)`)
    .addPrimaryKeyConstraint('console_signin_failure_pk', ['kind', 'key'])
    .modifyEnd(TABLE_OPTIONS)
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('console_signin_failure').ifExists().execute();
}

import { sql, type Kysely } from 'kysely';
import { TABLE_OPTIONS, createIndexOnce } from '../migration-ddl.ts';

/**
 * The notifier's tables.
 *
 * `notification`: one row per notification, found again by the SHA-256 of its key (the
 * producer's `idempotencyKey`, else `message:<AMQP message_id>`, else
 * `content:<SHA-256 of channel, to, template and data>`), so a redelivered or repeated
 * notification is acknowledged and not sent again. The key may be longer than an index
 * takes, hence the hash. Status: pending → sending → sent, or failed (for good), folded
 * (over the rate limit, left for the digest), dead_lettered (out of retries; a replay
 * from the `.dlq` sends it again).
 *
 * `notification_rate`: the per-recipient rate limit, one counter per recipient and fixed
 * window, taken by a conditional UPDATE so concurrent handlers never overshoot it.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('notification')
    .ifNotExists()
    .addColumn('id', 'bigint', (c) => c.primaryKey().autoIncrement())
    .addColumn('key_sha256', 'char(64)', (c) => c.notNull())
    .addColumn('idempotency_key', 'varchar(1100)', (c) => c.notNull())
    // producer | message_id | content: where the key came from.
    .addColumn('key_source', 'varchar(16)', (c) => c.notNull())
    .addColumn('channel', 'varchar(16)', (c) => c.notNull())
    // JSON arrays: as asked, delivered so far (a webhook retry skips those), folded by the rate limit.
    .addColumn('recipients', 'text', (c) => c.notNull())
    .addColumn('delivered_to', 'text')
    .addColumn('folded_to', 'text')
    .addColumn('template', 'varchar(64)', (c) => c.notNull())
    .addColumn('data', sql`mediumtext`)
    .addColumn('status', 'varchar(16)', (c) => c.notNull().defaultTo('pending'))
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    // The Message-ID header, the same on every attempt so a receiver can drop a repeat.
    .addColumn('message_id', 'varchar(255)', (c) => c.notNull())
    .addColumn('provider_message_id', 'varchar(255)')
    .addColumn('provider_response', 'varchar(1000)')
    .addColumn('error_code', 'varchar(64)')
    .addColumn('error_message', 'text')
    .addColumn('worker', 'varchar(128)')
    .addColumn('created_at', sql`datetime(3)`, (c) => c.notNull().defaultTo(sql`CURRENT_TIMESTAMP(3)`))
    .addColumn('sending_at', sql`datetime(3)`)
    .addColumn('finished_at', sql`datetime(3)`)
    .modifyEnd(TABLE_OPTIONS)
    .execute();
  await createIndexOnce(db, 'notification', 'notification_key', ['key_sha256'], true);
  await createIndexOnce(db, 'notification', 'notification_status', ['status', 'created_at']);

  await db.schema
    .createTable('notification_rate')
    .ifNotExists()
    // SHA-256 of `<channel>:<recipient>`: no address in an index or a log.
    .addColumn('recipient_sha256', 'char(64)', (c) => c.notNull())
    .addColumn('window_start', sql`datetime(3)`, (c) => c.notNull())
    .addColumn('sent', 'integer', (c) => c.notNull().defaultTo(0))
    .addPrimaryKeyConstraint('notification_rate_pk', ['recipient_sha256', 'window_start'])
    .modifyEnd(TABLE_OPTIONS)
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('notification_rate').ifExists().execute();
  await db.schema.dropTable('notification').ifExists().execute();
}

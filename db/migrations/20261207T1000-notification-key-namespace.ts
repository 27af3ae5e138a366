import type { Kysely } from 'kysely';
import { columnExists, createIndexOnce, indexExists } from '../migration-ddl.ts';

/**
 * Notification keys become unique per source (`producer`, `message_id`, `content`,
 * `vigil`) instead of globally: a producer's `idempotencyKey` can no longer take the key
 * of a message id, of a content hash, or of one of Vigil's own alerts.
 *
 * `content_sha256` records what the row was created for, so that a `failed` row (a
 * refused template, data or recipient) is a duplicate only for the same content; a later
 * message with the same key and other content is processed. Older rows keep it null and
 * the notifier derives it from their stored columns.
 */
export async function up(db: Kysely<any>): Promise<void> {
  if (!(await columnExists(db, 'notification', 'content_sha256'))) {
    await db.schema.alterTable('notification').addColumn('content_sha256', 'char(64)').execute();
  }
  await createIndexOnce(db, 'notification', 'notification_source_key', ['key_source', 'key_sha256'], true);
  if (await indexExists(db, 'notification', 'notification_key')) await db.schema.dropIndex('notification_key').on('notification').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await createIndexOnce(db, 'notification', 'notification_key', ['key_sha256'], true);
  if (await indexExists(db, 'notification', 'notification_source_key')) await db.schema.dropIndex('notification_source_key').on('notification').execute();
  if (await columnExists(db, 'notification', 'content_sha256')) await db.schema.alterTable('notification').dropColumn('content_sha256').execute();
}

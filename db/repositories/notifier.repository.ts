import { createHash } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type { Database, NotificationStatus, NotificationTable } from '../schema.ts';

export interface NotificationRecord {
  id: number;
  status: NotificationStatus;
  attempts: number;
  messageId: string;
  deliveredTo: string[];
  foldedTo: string[];
}

export interface NewNotification {
  key: string;
  keySource: NotificationTable['key_source'];
  channel: NotificationTable['channel'];
  recipients: readonly string[];
  template: string;
  data: unknown;
  messageId: string;
}

/** The notifier job's queries. */
export interface NotifierRepository {
  /** The notification's row, created `pending` on its first delivery. */
  findOrCreate(n: NewNotification): Promise<NotificationRecord>;
  /**
   * Takes the row for one send: from `pending` or `dead_lettered`, or from `sending` left
   * by a process that stopped before `staleBefore`. One UPDATE, so only one replica wins;
   * undefined when it did not.
   */
  claim(id: number, c: { worker: string; now: Date; staleBefore: Date }): Promise<NotificationRecord | undefined>;
  /**
   * One send to this recipient in the window starting at `windowStart`, when fewer than
   * `limit` were taken: true when it was taken.
   */
  takeRateSlot(recipientKey: string, windowStart: Date, limit: number): Promise<boolean>;
  recordFolded(id: number, folded: readonly string[], final: boolean): Promise<void>;
  recordDelivered(id: number, deliveredTo: readonly string[]): Promise<void>;
  recordSent(id: number, r: { providerMessageId: string | undefined; providerResponse: string | undefined; note?: string }): Promise<void>;
  /** `failed` for good, or back to `pending` / `dead_lettered` after a transient failure; never over a `sent` row. */
  recordFailure(id: number, r: { status: 'failed' | 'pending' | 'dead_lettered'; code: string; message: string }): Promise<void>;
}

export function keyHash(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

export function notifierRepository(db: Kysely<Database>): NotifierRepository {
  const select = (id: number) =>
    db.selectFrom('notification').select(['id', 'status', 'attempts', 'message_id', 'delivered_to', 'folded_to']).where('id', '=', id).executeTakeFirstOrThrow().then(toRecord);
  return {
    async findOrCreate(n) {
      const hash = keyHash(n.key);
      await db
        .insertInto('notification')
        .ignore()
        .values({
          key_sha256: hash,
          idempotency_key: n.key,
          key_source: n.keySource,
          channel: n.channel,
          recipients: JSON.stringify(n.recipients),
          template: n.template,
          data: n.data === undefined ? null : JSON.stringify(n.data),
          message_id: n.messageId,
        })
        .execute();
      const row = await db.selectFrom('notification').select('id').where('key_sha256', '=', hash).executeTakeFirstOrThrow();
      return select(Number(row.id));
    },

    async claim(id, c) {
      const r = await db
        .updateTable('notification')
        .set({ status: 'sending', attempts: sql`attempts + 1`, sending_at: c.now, worker: c.worker })
        .where('id', '=', id)
        .where((eb) =>
          eb.or([
            eb('status', 'in', ['pending', 'dead_lettered']),
            eb.and([eb('status', '=', 'sending'), eb('sending_at', '<', c.staleBefore)]),
          ]),
        )
        .executeTakeFirst();
      return Number(r.numUpdatedRows) === 1 ? select(id) : undefined;
    },

    async takeRateSlot(recipientKey, windowStart, limit) {
      const hash = keyHash(recipientKey);
      await db.insertInto('notification_rate').ignore().values({ recipient_sha256: hash, window_start: windowStart, sent: 0 }).execute();
      const r = await db
        .updateTable('notification_rate')
        .set({ sent: sql`sent + 1` })
        .where('recipient_sha256', '=', hash)
        .where('window_start', '=', windowStart)
        .where('sent', '<', limit)
        .executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    },

    async recordFolded(id, folded, final) {
      await db
        .updateTable('notification')
        .set(final ? { folded_to: JSON.stringify(folded), status: 'folded', finished_at: new Date() } : { folded_to: JSON.stringify(folded) })
        .where('id', '=', id)
        .execute();
    },

    async recordDelivered(id, deliveredTo) {
      await db.updateTable('notification').set({ delivered_to: JSON.stringify(deliveredTo) }).where('id', '=', id).execute();
    },

    async recordSent(id, r) {
      await db
        .updateTable('notification')
        .set({
          status: 'sent',
          provider_message_id: r.providerMessageId?.slice(0, 255) ?? null,
          provider_response: r.providerResponse?.slice(0, 1000) ?? null,
          error_code: r.note === undefined ? null : 'PARTIAL',
          error_message: r.note ?? null,
          finished_at: new Date(),
        })
        .where('id', '=', id)
        .execute();
    },

    async recordFailure(id, r) {
      await db
        .updateTable('notification')
        .set({
          status: r.status,
          error_code: r.code.slice(0, 64),
          error_message: r.message.slice(0, 4000),
          finished_at: r.status === 'failed' ? new Date() : null,
        })
        .where('id', '=', id)
        .where('status', '!=', 'sent')
        .execute();
    },
  };
}

function toRecord(r: { id: number; status: NotificationStatus; attempts: number; message_id: string; delivered_to: string | null; folded_to: string | null }): NotificationRecord {
  return {
    id: Number(r.id),
    status: r.status,
    attempts: r.attempts,
    messageId: r.message_id,
    deliveredTo: r.delivered_to ? (JSON.parse(r.delivered_to) as string[]) : [],
    foldedTo: r.folded_to ? (JSON.parse(r.folded_to) as string[]) : [],
  };
}

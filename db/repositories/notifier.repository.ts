import { createHash } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type { Database, NotificationStatus, NotificationTable } from '../schema.ts';

export interface NotificationRecord {
  id: number;
  status: NotificationStatus;
  /** The hash of what the row was created (or last reopened) for; null on rows older than the column. */
  contentSha256: string | null;
  /** What the row was created (or last reopened) for, as stored. */
  content: { channel: NotificationTable['channel']; to: string[]; template: string; data: Record<string, unknown> | undefined };
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
  contentSha256: string;
}

/** The notifier job's queries. */
export interface NotifierRepository {
  /** The notification's row (its key unique within its source), created `pending` on its first delivery. */
  findOrCreate(n: NewNotification): Promise<NotificationRecord>;
  /**
   * A `failed` row taken over by other content with the same key: back to `pending` with
   * the new content, when it is still `failed` with the content `expected` (one UPDATE, so
   * two messages racing for it cannot both have it). Undefined when it was not.
   */
  reopen(id: number, expected: string | null, n: NewNotification): Promise<NotificationRecord | undefined>;
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
  /**
   * `failed` for good, or back to `pending` / `dead_lettered` after a transient failure;
   * never over a `sent` row, nor, with `content`, over a row that now holds other content.
   */
  recordFailure(id: number, r: { status: 'failed' | 'pending' | 'dead_lettered'; code: string; message: string; content?: string | null }): Promise<void>;
}

export function keyHash(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

export function notifierRepository(db: Kysely<Database>): NotifierRepository {
  const columns = ['id', 'status', 'attempts', 'message_id', 'delivered_to', 'folded_to', 'content_sha256', 'channel', 'recipients', 'template', 'data'] as const;
  const select = (id: number) => db.selectFrom('notification').select(columns).where('id', '=', id).executeTakeFirstOrThrow().then(toRecord);
  const contentColumns = (n: NewNotification) => ({
    channel: n.channel,
    recipients: JSON.stringify(n.recipients),
    template: n.template,
    data: n.data === undefined ? null : JSON.stringify(n.data),
    content_sha256: n.contentSha256,
  });
  return {
    async findOrCreate(n) {
      const hash = keyHash(n.key);
      await db
        .insertInto('notification')
        .ignore()
        .values({ key_sha256: hash, idempotency_key: n.key, key_source: n.keySource, message_id: n.messageId, ...contentColumns(n) })
        .execute();
      return db.selectFrom('notification').select(columns).where('key_source', '=', n.keySource).where('key_sha256', '=', hash).executeTakeFirstOrThrow().then(toRecord);
    },

    async reopen(id, expected, n) {
      const r = await db
        .updateTable('notification')
        .set({
          ...contentColumns(n),
          status: 'pending',
          attempts: 0,
          delivered_to: null,
          folded_to: null,
          error_code: null,
          error_message: null,
          provider_message_id: null,
          provider_response: null,
          worker: null,
          sending_at: null,
          finished_at: null,
        })
        .where('id', '=', id)
        .where('status', '=', 'failed')
        .where(sql<boolean>`content_sha256 <=> ${expected}`)
        .executeTakeFirst();
      return Number(r.numUpdatedRows) === 1 ? select(id) : undefined;
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
      let q = db
        .updateTable('notification')
        .set({
          status: r.status,
          error_code: r.code.slice(0, 64),
          error_message: r.message.slice(0, 4000),
          finished_at: r.status === 'failed' ? new Date() : null,
        })
        .where('id', '=', id)
        .where('status', '!=', 'sent');
      if (r.content !== undefined) q = q.where(sql<boolean>`content_sha256 <=> ${r.content}`);
      await q.execute();
    },
  };
}

interface Row {
  id: number;
  status: NotificationStatus;
  attempts: number;
  message_id: string;
  delivered_to: string | null;
  folded_to: string | null;
  content_sha256: string | null;
  channel: NotificationTable['channel'];
  recipients: string;
  template: string;
  data: string | null;
}

function toRecord(r: Row): NotificationRecord {
  return {
    id: Number(r.id),
    status: r.status,
    contentSha256: r.content_sha256,
    content: { channel: r.channel, to: JSON.parse(r.recipients) as string[], template: r.template, data: r.data === null ? undefined : (JSON.parse(r.data) as Record<string, unknown>) },
    attempts: r.attempts,
    messageId: r.message_id,
    deliveredTo: r.delivered_to ? (JSON.parse(r.delivered_to) as string[]) : [],
    foldedTo: r.folded_to ? (JSON.parse(r.folded_to) as string[]) : [],
  };
}

import { createHash } from 'node:crypto';
import { VIGIL_KEY_PREFIX, type Notification } from '../../shared/contract/messages.ts';
import type { NotificationTable } from '../../db/schema.ts';

export interface NotificationKey {
  /** Unique within its source; also the idempotency header the receiver sees. */
  key: string;
  source: NotificationTable['key_source'];
  /** What the notification says (channel, recipients, template, data), hashed. */
  contentSha256: string;
}

/**
 * The key a notification is recognised by, unique per source: the producer's
 * `idempotencyKey`; else the AMQP `message_id` (a broker redelivery or a producer's
 * republish of one message); else a hash of what it says, so an identical repeat without
 * either is sent once. A producer that wants the same words sent twice gives two keys.
 *
 * A key with Vigil's prefix (`vigil:`, its own alerts) is bound to the content: producers
 * publish to the same queue and can guess such a key, so it only ever names these exact
 * words to these recipients, and whoever sends them first sends Vigil's alert.
 */
export function notificationKey(n: Notification, messageId: string | undefined): NotificationKey {
  const contentSha256 = contentHash(n);
  if (n.idempotencyKey?.startsWith(VIGIL_KEY_PREFIX)) return { key: `${n.idempotencyKey}#${contentSha256}`, source: 'vigil', contentSha256 };
  if (n.idempotencyKey !== undefined) return { key: n.idempotencyKey, source: 'producer', contentSha256 };
  if (messageId !== undefined && messageId !== '') return { key: `message:${messageId.slice(0, 1000)}`, source: 'message_id', contentSha256 };
  return { key: `content:${contentSha256}`, source: 'content', contentSha256 };
}

/** The hash a row's `content_sha256` holds. */
export function contentHash(n: Pick<Notification, 'channel' | 'to' | 'template' | 'data'>): string {
  const content = canonicalJson({ channel: n.channel, to: n.to, template: n.template, data: n.data ?? {} });
  return createHash('sha256').update(content).digest('hex');
}

/** The header that carries the key to the receiver, on an email and on a webhook POST alike. */
export const IDEMPOTENCY_HEADER = 'X-Vigil-Idempotency-Key';

/** The Message-ID of every attempt of one notification: a receiver that saw it drops the repeat. */
export function messageIdFor(key: string, domain: string): string {
  return `<notify.${createHash('sha256').update(key).digest('hex').slice(0, 40)}@${domain}>`;
}

/** JSON with object keys sorted, so equal content hashes equally. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonicalJson((v as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

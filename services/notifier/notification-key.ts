import { createHash } from 'node:crypto';
import type { Notification } from '../../shared/contract/messages.ts';
import type { NotificationTable } from '../../db/schema.ts';

/**
 * The key a notification is recognised by: the producer's `idempotencyKey`; else the AMQP
 * `message_id` (a broker redelivery or a producer's republish of one message); else a
 * hash of what it says (channel, recipients, template, data), so an identical repeat
 * without either is sent once. A producer that wants the same words sent twice gives two keys.
 */
export function notificationKey(n: Notification, messageId: string | undefined): { key: string; source: NotificationTable['key_source'] } {
  if (n.idempotencyKey !== undefined) return { key: n.idempotencyKey, source: 'producer' };
  if (messageId !== undefined && messageId !== '') return { key: `message:${messageId.slice(0, 1000)}`, source: 'message_id' };
  const content = canonicalJson({ channel: n.channel, to: n.to, template: n.template, data: n.data ?? {} });
  return { key: `content:${createHash('sha256').update(content).digest('hex')}`, source: 'content' };
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

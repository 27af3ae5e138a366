import { CODECS, type Notification } from '../contract/messages.ts';
import { errorMessage } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { Publisher } from './publisher.ts';

/** A notification to the notifier, its idempotency key as the message id (the notifier's redelivery key). */
export function publishNotification(publisher: Pick<Publisher, 'publish'>, n: Notification): Promise<void> {
  return publisher.publish('notifier', n, { messageId: n.idempotencyKey });
}

/** The outbox as this function needs it (db/repositories/alert-outbox.repository.ts has one). */
export interface AlertOutboxPort {
  pending(afterId: number, limit: number): Promise<{ id: number; notification: string }[]>;
  markPublished(id: number): Promise<void>;
  markInvalid(id: number): Promise<void>;
}

export interface OutboxReport {
  /** The alerts published, by id. */
  published: number[];
  /** Stored notifications the notifier's codec refuses: marked `invalid`, never published. */
  invalid: number;
}

/** A stored alert as the notifier would take it. @throws BadMessageError when it would not. */
export function storedNotification(text: string): Notification {
  return CODECS.notifier.parse(Buffer.from(text));
}

/**
 * The outbox's second half, for every reader of it (facestreaming after a verdict,
 * `vigil rescue` for alerts a crash left behind): each pending alert is checked with the
 * notifier's own codec, published (confirmed), then marked, a page at a time. A publish
 * that fails throws, leaving the rest pending for the next try; the idempotency key in each
 * notification makes a repeat harmless.
 */
export async function publishAlertOutbox(
  outbox: AlertOutboxPort,
  publish: (n: Notification) => Promise<void>,
  log: Pick<Logger, 'error'>,
  pageSize = 500,
): Promise<OutboxReport> {
  const report: OutboxReport = { published: [], invalid: 0 };
  for (let after = 0; ; ) {
    const page = await outbox.pending(after, pageSize);
    for (const alert of page) {
      let notification: Notification;
      try {
        notification = storedNotification(alert.notification);
      } catch (err) {
        log.error({ alertId: alert.id, reason: errorMessage(err) }, 'stored alert is not a valid notification; marked invalid, not published');
        await outbox.markInvalid(alert.id);
        report.invalid++;
        continue;
      }
      await publish(notification);
      await outbox.markPublished(alert.id);
      report.published.push(alert.id);
    }
    if (page.length < pageSize) return report;
    after = page.at(-1)!.id;
  }
}

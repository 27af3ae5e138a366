import type { NotificationRecord, NotifierRepository } from '../../db/repositories/notifier.repository.ts';
import type { Notification } from '../../shared/contract/messages.ts';
import { TransientError, errorCode, errorMessage, isPermanent } from '../../shared/errors.ts';
import type { HandlerOutcome, JobContext } from '../../shared/runtime/consumer.ts';
import type { EmailSender } from './email-sender.ts';
import { contentHash, messageIdFor, notificationKey } from './notification-key.ts';
import { checkEmailAddresses, resolveWebhooks, type WebhookRules, type WebhookTarget } from './recipients.ts';
import { renderMessage, templateFor, type RenderedMessage, type Template, type TemplateCatalog } from './templates.ts';

export type NotificationOutcome = 'sent' | 'duplicate' | 'failed' | 'folded' | 'retried';

export interface Deps {
  repo: NotifierRepository;
  templates: TemplateCatalog;
  /** Undefined without `SMTP_URL`: email waits in the retry queues, then the `.dlq`. */
  email: EmailSender | undefined;
  webhooks: WebhookRules;
  postWebhook(target: WebhookTarget, body: string, idempotencyKey: string, signal: AbortSignal): Promise<{ status: number; requestId: string | undefined }>;
  /** `NOTIFIER_RATE_LIMIT`; `max` 0 turns it off. */
  rateLimit: { max: number; windowMs: number };
  /** `NOTIFIER_SENDING_TIMEOUT`. */
  sendingTimeoutMs: number;
  /** The domain of Message-IDs (the sender's). */
  messageIdDomain: string;
  worker: string;
  maxAttempts: number;
  count(channel: string, template: string, outcome: NotificationOutcome): void;
  now?: () => Date;
}

const FINAL = new Set(['sent', 'failed', 'folded']);

interface Prepared {
  template: Template;
  message: RenderedMessage;
  /** Email addresses, or the webhook targets' `to` entries with where they lead. */
  recipients: { key: string; target?: WebhookTarget }[];
}

/**
 * A notification: find or record its row by key, check it (template, data, recipients),
 * take it for sending, hold back what the rate limit folds, send, record. A row already
 * sent or folded makes a redelivery a duplicate; a `failed` row only for the same content:
 * a refused message must not spend its key for a later valid one (a producer could
 * otherwise silence a notification by sending a bad one with its key first), so other
 * content with that key takes the row over and is sent. Delivery is at least once: a
 * process that dies after the relay took a message but before `sent` was recorded leaves
 * the row `sending`; past `NOTIFIER_SENDING_TIMEOUT` a redelivery sends it again with the
 * same Message-ID and idempotency header, for the receiver to drop.
 */
export function notifierHandler(deps: Deps) {
  const now = deps.now ?? (() => new Date());
  return async (n: Notification, ctx: JobContext): Promise<HandlerOutcome> => {
    const { key, source, contentSha256 } = notificationKey(n, ctx.messageId);
    const label = deps.templates.has(n.template) ? n.template : 'unknown';
    const count = (o: NotificationOutcome) => deps.count(n.channel, label, o);
    const record = { key, keySource: source, channel: n.channel, recipients: n.to, template: n.template, data: n.data, messageId: messageIdFor(key, deps.messageIdDomain), contentSha256 };
    let row = await deps.repo.findOrCreate(record);
    const log = ctx.log.child({ notificationId: row.id, template: label, channel: n.channel });
    const mine = (r: NotificationRecord) => (r.contentSha256 ?? contentHash(r.content)) === contentSha256;
    // Checked only when the row may be sent: a redelivery of a finished one is not rendered again.
    let checkedOnce: ReturnType<typeof check> | undefined;
    const checked = () => (checkedOnce ??= check(deps, n));
    const refuse = async (err: unknown): Promise<HandlerOutcome> => {
      // Recorded only on a row that holds this content: another message's row keeps its own state.
      if (mine(row)) await deps.repo.recordFailure(row.id, { status: 'failed', code: errorCode(err), message: errorMessage(err), content: row.contentSha256 });
      count('failed');
      log.info({ code: errorCode(err), reason: errorMessage(err) }, 'notification refused');
      return 'rejected';
    };

    if (row.status === 'failed' && !mine(row)) {
      const c = checked();
      if (!c.ok) return refuse(c.err);
      const reopened = await deps.repo.reopen(row.id, row.contentSha256, record);
      if (!reopened) throw new TransientError('NOTIFICATION_IN_FLIGHT', `notification ${row.id} was just taken over by another message with its key; this one is tried again`);
      log.info('a failed notification\'s key taken over by other content');
      row = reopened;
    }
    if (FINAL.has(row.status)) {
      count('duplicate');
      return 'duplicate';
    }
    const c = checked();
    if (!c.ok) return refuse(c.err);
    const prepared = c.prepared;

    const t = now();
    const claimed = await deps.repo.claim(row.id, { worker: deps.worker, now: t, staleBefore: new Date(t.getTime() - deps.sendingTimeoutMs) });
    if (!claimed) {
      const again = await deps.repo.findOrCreate(record);
      if (FINAL.has(again.status)) {
        count('duplicate');
        return 'duplicate';
      }
      throw new TransientError('NOTIFICATION_IN_FLIGHT', `notification ${row.id} is being sent by another process (or was, until it stopped); sent again after NOTIFIER_SENDING_TIMEOUT`);
    }

    const folded = claimed.attempts === 1 ? await foldOverLimit(deps, n, prepared, claimed, t) : claimed.foldedTo;
    const todo = prepared.recipients.filter((r) => !folded.includes(r.key) && !claimed.deliveredTo.includes(r.key));
    if (todo.length === 0 && folded.length > 0 && claimed.deliveredTo.length === 0) {
      count('folded');
      log.info({ folded: folded.length }, 'notification folded: its recipients reached the rate limit');
      return 'done';
    }

    try {
      await send(deps, n, key, prepared.message, claimed, todo, ctx.signal);
    } catch (err) {
      if (isPermanent(err)) {
        await deps.repo.recordFailure(row.id, { status: 'failed', code: errorCode(err), message: errorMessage(err) });
        count('failed');
        log.info({ code: errorCode(err), reason: errorMessage(err) }, 'notification failed for good');
        return 'rejected';
      }
      const status = ctx.attempt >= deps.maxAttempts ? 'dead_lettered' : 'pending';
      await deps.repo.recordFailure(row.id, { status, code: errorCode(err), message: errorMessage(err) });
      count('retried');
      throw err;
    }
    count('sent');
    return 'done';
  };
}

/** `prepare`, its refusal (a permanent error) as a value; anything else still throws. */
function check(deps: Deps, n: Notification): { ok: true; prepared: Prepared } | { ok: false; err: unknown } {
  try {
    return { ok: true, prepared: prepare(deps, n) };
  } catch (err) {
    if (!isPermanent(err)) throw err;
    return { ok: false, err };
  }
}

function prepare(deps: Deps, n: Notification): Prepared {
  const data = n.data ?? {};
  const template = templateFor(deps.templates, n.template, data);
  const recipients =
    n.channel === 'email'
      ? checkEmailAddresses(n.to).map((a) => ({ key: a }))
      : resolveWebhooks(n.to, deps.webhooks).map((target) => ({ key: target.entry, target }));
  return { template, message: renderMessage(template, data), recipients };
}

/** Takes one slot per recipient of an alert; those over the limit are recorded folded (for the next digest). */
async function foldOverLimit(deps: Deps, n: Notification, p: Prepared, row: NotificationRecord, t: Date): Promise<string[]> {
  if (!p.template.rateLimited || deps.rateLimit.max === 0) return [];
  const windowStart = new Date(Math.floor(t.getTime() / deps.rateLimit.windowMs) * deps.rateLimit.windowMs);
  const folded: string[] = [];
  for (const r of p.recipients) {
    if (!(await deps.repo.takeRateSlot(`${n.channel}:${r.target?.url ?? r.key}`, windowStart, deps.rateLimit.max))) folded.push(r.key);
  }
  if (folded.length > 0) await deps.repo.recordFolded(row.id, folded, folded.length === p.recipients.length);
  return folded;
}

async function send(deps: Deps, n: Notification, key: string, message: RenderedMessage, row: NotificationRecord, todo: Prepared['recipients'], signal: AbortSignal): Promise<void> {
  if (n.channel === 'email') {
    if (!deps.email) throw new TransientError('SMTP_NOT_CONFIGURED', 'email notification but SMTP_URL is not set');
    const receipt = await deps.email.send({ to: todo.map((r) => r.key), message, messageId: row.messageId, idempotencyKey: key, signal });
    const note = receipt.rejected.length > 0 ? `the relay refused ${receipt.rejected.length} of ${todo.length} recipients` : undefined;
    await deps.repo.recordSent(row.id, { providerMessageId: receipt.messageId, providerResponse: receipt.response, note });
    return;
  }
  const body = JSON.stringify({ text: `*${message.subject}*\n\n${message.text.trim()}`, subject: message.subject, template: n.template, idempotencyKey: key, data: n.data ?? {} });
  const delivered = [...row.deliveredTo];
  let last: { status: number; requestId: string | undefined } | undefined;
  for (const r of todo) {
    last = await deps.postWebhook(r.target!, body, key, signal);
    delivered.push(r.key);
    // Recorded one by one: a retry after a later target failed skips the ones that took it.
    await deps.repo.recordDelivered(row.id, delivered);
  }
  await deps.repo.recordSent(row.id, { providerMessageId: last?.requestId, providerResponse: last ? `HTTP ${last.status}` : undefined });
}

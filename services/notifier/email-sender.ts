import { createTransport } from 'nodemailer';
import { PermanentError, TransientError } from '../../shared/errors.ts';
import { IDEMPOTENCY_HEADER } from './notification-key.ts';
import type { RenderedMessage } from './templates.ts';

export interface EmailSettings {
  /** `SMTP_URL`: `smtp://user:pass@host:587` (STARTTLS when offered) or `smtps://…` (TLS from the start). */
  url: string;
  from: string;
  tlsRejectUnauthorized: boolean;
  timeoutMs: number;
}

export interface Email {
  to: readonly string[];
  message: RenderedMessage;
  /** The Message-ID header, the same on every attempt of one notification. */
  messageId: string;
  idempotencyKey: string;
  signal?: AbortSignal;
}

export interface EmailReceipt {
  messageId: string;
  /** The relay's final answer (`250 OK queued as …`). */
  response: string;
  /** Addresses the relay refused while it took the others. */
  rejected: string[];
}

export type EmailSender = { send(mail: Email): Promise<EmailReceipt>; close(): void };

/**
 * Sends through one SMTP relay, a connection per message (notifications are few; a pool
 * would hold a connection the relay may drop between alert storms). The credentials come
 * from the URL and go nowhere else.
 */
export function createEmailSender(s: EmailSettings): EmailSender {
  const u = new URL(s.url);
  const secure = u.protocol === 'smtps:';
  const transport = createTransport({
    host: u.hostname,
    port: Number(u.port || (secure ? 465 : 587)),
    secure,
    auth: u.username ? { user: decodeURIComponent(u.username), pass: decodeURIComponent(u.password) } : undefined,
    tls: { rejectUnauthorized: s.tlsRejectUnauthorized },
    connectionTimeout: s.timeoutMs,
    greetingTimeout: s.timeoutMs,
    socketTimeout: s.timeoutMs,
  });
  return {
    async send(mail) {
      try {
        const info = await transport.sendMail({
          from: s.from,
          to: [...mail.to],
          subject: mail.message.subject,
          text: mail.message.text,
          html: mail.message.html,
          messageId: mail.messageId,
          headers: { [IDEMPOTENCY_HEADER]: mail.idempotencyKey },
          signal: mail.signal,
        });
        return { messageId: info.messageId, response: String(info.response ?? ''), rejected: (info.rejected ?? []).map(String) };
      } catch (err) {
        throw classifySmtpError(err);
      }
    },
    close: () => transport.close(),
  };
}

/**
 * A 5xx answer to the message or every recipient (550 no such mailbox) is permanent:
 * sending it again gets the same answer. A 4xx (greylisting, a full queue), no answer, a
 * lost connection or refused credentials are transient: the relay or its configuration
 * can recover, and the message waits in the retry queues, then the `.dlq`, meanwhile.
 */
export function classifySmtpError(err: unknown): Error {
  const e = err as { code?: string; responseCode?: number; permanent?: boolean; response?: string; command?: string };
  const answer = e.responseCode ? ` (${e.command ? `${e.command}: ` : ''}${String(e.response ?? e.responseCode).slice(0, 200)})` : '';
  if (e.code !== 'EAUTH' && e.responseCode !== undefined && e.responseCode >= 500 && e.responseCode !== 503) {
    return new PermanentError('SMTP_REJECTED', `the relay refused the message${answer}`, err);
  }
  if (e.responseCode !== undefined) return new TransientError('SMTP_DEFERRED', `the relay deferred the message${answer}`, err);
  return new TransientError('SMTP_UNAVAILABLE', `the relay did not take the message: ${e.code ?? 'error'}`, err);
}

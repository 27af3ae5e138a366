import { createHmac } from 'node:crypto';
import { NETWORK_ERROR_CODES, PermanentError, TransientError, errorCode } from '../../shared/errors.ts';
import { IDEMPOTENCY_HEADER } from './notification-key.ts';
import type { WebhookTarget } from './recipients.ts';

export const SIGNATURE_HEADER = 'X-Vigil-Signature';

/**
 * `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`, as Stripe signs: the receiver
 * recomputes it with the shared secret and refuses an old `t`, so a captured request
 * cannot be replayed later.
 */
export function signatureHeader(secret: string, body: string, unixSeconds: number): string {
  const mac = createHmac('sha256', secret).update(`${unixSeconds}.${body}`).digest('hex');
  return `t=${unixSeconds},v1=${mac}`;
}

export interface WebhookPost {
  target: WebhookTarget;
  /** The JSON body, as sent and signed. */
  body: string;
  idempotencyKey: string;
  secret: string | undefined;
  timeoutMs: number;
  signal?: AbortSignal;
  now?: () => number;
}

/**
 * One POST. 2xx is delivered; 408, 429 and 5xx, a timeout or a lost connection are
 * transient; any other answer is permanent, redirects included (they are not followed:
 * a redirect could lead to an address the allow-list keeps out).
 */
export async function postWebhook(p: WebhookPost): Promise<{ status: number; requestId: string | undefined }> {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'user-agent': 'vigil-notifier',
    [IDEMPOTENCY_HEADER]: p.idempotencyKey,
  };
  if (p.secret !== undefined) headers[SIGNATURE_HEADER] = signatureHeader(p.secret, p.body, Math.floor((p.now ?? Date.now)() / 1000));
  const timeout = AbortSignal.timeout(p.timeoutMs);
  let res: Response;
  try {
    res = await fetch(p.target.url, { method: 'POST', headers, body: p.body, redirect: 'manual', signal: p.signal ? AbortSignal.any([p.signal, timeout]) : timeout });
  } catch (err) {
    const cause = (err as { cause?: unknown }).cause;
    const code = timeout.aborted ? 'ETIMEDOUT' : errorCode(cause ?? err);
    // Never the URL: it may carry a token in its path.
    throw new TransientError('WEBHOOK_UNAVAILABLE', `webhook ${p.target.label}: ${timeout.aborted ? `no answer within ${p.timeoutMs} ms` : NETWORK_ERROR_CODES.has(code) ? code : 'request failed'}`, err);
  }
  await res.body?.cancel().catch(() => undefined);
  const requestId = res.headers.get('x-request-id') ?? undefined;
  if (res.status >= 200 && res.status < 300) return { status: res.status, requestId };
  const what = `webhook ${p.target.label} answered HTTP ${res.status}`;
  if (res.status === 408 || res.status === 429 || res.status >= 500) throw new TransientError('WEBHOOK_UNAVAILABLE', what);
  throw new PermanentError('WEBHOOK_REFUSED', what);
}

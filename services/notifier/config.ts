import { parseDuration, type EnvReader } from '../../shared/config/env-reader.ts';

export interface NotifierConfig {
  /** `SMTP_FROM`: the sender of every email. @default 'Vigil <vigil@localhost>' */
  smtpFrom: string;
  /**
   * `SMTP_TLS_REJECT_UNAUTHORIZED`: refuse a relay whose certificate does not verify (for
   * STARTTLS and `smtps://`). Only a test or a lab relay with a self-signed one turns it off.
   * @default true
   */
  smtpTlsRejectUnauthorized: boolean;
  /** `SMTP_TIMEOUT`: longest wait for the relay's greeting or any answer. @default 30s */
  smtpTimeoutMs: number;
  /**
   * `NOTIFIER_WEBHOOKS`: named webhook targets, `name=https://…,other=https://…`; a
   * webhook notification's `to` names them (or gives one of these URLs). @default {}
   */
  webhooks: Record<string, string>;
  /**
   * `NOTIFIER_WEBHOOK_ALLOW`: comma-separated URL prefixes a notification may name
   * directly (same scheme and host, the path under the prefix's). Any other URL is refused.
   * @default []
   */
  webhookAllow: string[];
  /** `NOTIFIER_WEBHOOK_SECRET` (or `_FILE`): signs webhook bodies (`X-Vigil-Signature`); never logged. @default undefined (unsigned) */
  webhookSecret: string | undefined;
  /** `NOTIFIER_WEBHOOK_TIMEOUT`: longest wait for a webhook's answer. @default 10s */
  webhookTimeoutMs: number;
  /**
   * `NOTIFIER_RATE_LIMIT`: alerts per recipient per window, `10/1h` (a bare number is per
   * hour; `0` turns the limit off). Alerts beyond it are recorded `folded`, not sent.
   * @default { max: 10, windowMs: 1 h }
   */
  rateLimit: { max: number; windowMs: number };
  /**
   * `NOTIFIER_SENDING_TIMEOUT`: a notification left `sending` longer than this (its process
   * died mid-send) is sent again, with the same Message-ID. @default 2 min
   */
  sendingTimeoutMs: number;
}

const NAME = /^[a-z0-9][a-z0-9_-]{0,63}$/i;

export function readNotifierConfig(r: EnvReader): NotifierConfig {
  return {
    smtpFrom: r.matching('SMTP_FROM', 'Vigil <vigil@localhost>', (v) => !/[\r\n]/.test(v) && /@/.test(v), 'an address such as "Vigil <vigil@example.org>"'),
    smtpTlsRejectUnauthorized: r.bool('SMTP_TLS_REJECT_UNAUTHORIZED', true),
    smtpTimeoutMs: r.duration('SMTP_TIMEOUT', 30_000, 100, 600_000),
    webhooks: namedWebhooks(r),
    webhookAllow: urlList(r, 'NOTIFIER_WEBHOOK_ALLOW'),
    webhookSecret: r.optionalString('NOTIFIER_WEBHOOK_SECRET', { secret: true }),
    webhookTimeoutMs: r.duration('NOTIFIER_WEBHOOK_TIMEOUT', 10_000, 100, 600_000),
    rateLimit: rateLimit(r),
    sendingTimeoutMs: r.duration('NOTIFIER_SENDING_TIMEOUT', 120_000, 1_000, 24 * 3_600_000),
  };
}

function isHttpUrl(v: string): boolean {
  try {
    const u = new URL(v);
    return u.protocol === 'https:' || u.protocol === 'http:';
  } catch {
    return false;
  }
}

/** `name=url,…`; the URLs may hold credentials, so no value is repeated in a problem. */
function namedWebhooks(r: EnvReader): Record<string, string> {
  const v = r.optionalString('NOTIFIER_WEBHOOKS', { secret: true });
  const out: Record<string, string> = {};
  if (v === undefined) return out;
  for (const part of v.split(',').map((s) => s.trim()).filter(Boolean)) {
    const eq = part.indexOf('=');
    const name = part.slice(0, eq).trim();
    const url = part.slice(eq + 1).trim();
    if (eq < 1 || !NAME.test(name) || !isHttpUrl(url) || name in out) {
      r.problems.push({ variable: 'NOTIFIER_WEBHOOKS', expected: 'comma-separated name=http(s)://… pairs, each name once (letters, digits, _ and -)' });
      return {};
    }
    out[name] = url;
  }
  return out;
}

function urlList(r: EnvReader, name: string): string[] {
  const v = r.optionalString(name);
  if (v === undefined) return [];
  const urls = v.split(',').map((s) => s.trim()).filter(Boolean);
  const bad = urls.filter((u) => !isHttpUrl(u) || new URL(u).username !== '');
  if (bad.length > 0) {
    // Not echoed: a prefix given with credentials would put them in the log.
    r.problems.push({ variable: name, expected: 'comma-separated http(s) URL prefixes without credentials' });
    return [];
  }
  return urls;
}

function rateLimit(r: EnvReader): { max: number; windowMs: number } {
  const fallback = { max: 10, windowMs: 3_600_000 };
  const v = r.optionalString('NOTIFIER_RATE_LIMIT');
  if (v === undefined) return fallback;
  const m = /^(\d{1,6})(?:\s*\/\s*(\S+))?$/.exec(v);
  const windowMs = m?.[2] === undefined ? 3_600_000 : parseDuration(m[2]);
  if (!m || windowMs === undefined || windowMs < 1_000 || windowMs > 7 * 24 * 3_600_000) {
    r.problems.push({ variable: 'NOTIFIER_RATE_LIMIT', expected: 'alerts per recipient and window, like 10/1h (0 turns it off)', got: v });
    return fallback;
  }
  return { max: Number(m[1]), windowMs };
}

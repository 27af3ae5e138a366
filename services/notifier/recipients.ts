import { PermanentError } from '../../shared/errors.ts';

// A plain addr-spec: dot-atom local part, a domain of at least two DNS labels. No display
// names, comments or quoted local parts: a producer gives bare addresses, and anything
// fancier is where header injection and relay confusion live.
const LOCAL = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;
const LABEL = /^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$/;

export function isEmailAddress(s: string): boolean {
  if (s.length > 254) return false;
  const at = s.lastIndexOf('@');
  if (at < 1) return false;
  const local = s.slice(0, at);
  const labels = s.slice(at + 1).split('.');
  return local.length <= 64 && LOCAL.test(local) && labels.length >= 2 && labels.every((l) => LABEL.test(l)) && /[A-Za-z]/.test(labels.at(-1)!);
}

/** @throws PermanentError ADDRESS_INVALID naming the bad entries (their position, and the address cut short). */
export function checkEmailAddresses(to: readonly string[]): string[] {
  const bad = to.filter((a) => !isEmailAddress(a));
  if (bad.length > 0) throw new PermanentError('ADDRESS_INVALID', `not an email address: ${bad.map((a) => JSON.stringify(a.slice(0, 80))).join(', ')}`);
  return [...new Set(to.map((a) => a.toLowerCase()))];
}

export interface WebhookTarget {
  /** The notification's `to` entry it came from. */
  entry: string;
  /** What logs and rows show: the configured name, or the URL's origin (never its path or credentials). */
  label: string;
  url: string;
}

export interface WebhookRules {
  /** `NOTIFIER_WEBHOOKS`. */
  named: Readonly<Record<string, string>>;
  /** `NOTIFIER_WEBHOOK_ALLOW`. */
  allow: readonly string[];
}

/**
 * Each `to` entry as a configured target: a name of `NOTIFIER_WEBHOOKS`, one of its URLs,
 * or a URL under a prefix of `NOTIFIER_WEBHOOK_ALLOW` (same scheme, host and port, the path
 * under the prefix's path at a `/`, no credentials of its own). Anything else could make
 * Vigil call an internal address for whoever can publish a notification.
 * @throws PermanentError WEBHOOK_NOT_ALLOWED
 */
export function resolveWebhooks(to: readonly string[], rules: WebhookRules): WebhookTarget[] {
  const byUrl = new Map(Object.entries(rules.named).map(([name, url]) => [url, name]));
  const refused: string[] = [];
  const out: WebhookTarget[] = [];
  for (const entry of new Set(to)) {
    const named = Object.hasOwn(rules.named, entry) ? rules.named[entry] : undefined;
    if (named !== undefined) out.push({ entry, label: entry, url: named });
    else if (byUrl.has(entry)) out.push({ entry, label: byUrl.get(entry)!, url: entry });
    else if (rules.allow.some((p) => underPrefix(entry, p))) out.push({ entry, label: new URL(entry).origin, url: entry });
    else refused.push(describeUrl(entry));
  }
  if (refused.length > 0) throw new PermanentError('WEBHOOK_NOT_ALLOWED', `webhook target not in NOTIFIER_WEBHOOKS or NOTIFIER_WEBHOOK_ALLOW: ${refused.join(', ')}`);
  return out;
}

export function underPrefix(candidate: string, prefix: string): boolean {
  let c: URL;
  let p: URL;
  try {
    c = new URL(candidate);
    p = new URL(prefix);
  } catch {
    return false;
  }
  if (c.username !== '' || c.password !== '') return false;
  if (c.protocol !== p.protocol || c.host !== p.host) return false;
  // Compared after the URL parser's normalisation, so `/a/../b` cannot climb out of `/a/`.
  const base = p.pathname.endsWith('/') ? p.pathname : `${p.pathname}/`;
  return c.pathname === p.pathname || c.pathname.startsWith(base);
}

/** A URL as it may appear in a log or an error: scheme, host and port only. */
export function describeUrl(u: string): string {
  try {
    return new URL(u).origin;
  } catch {
    return JSON.stringify(u.slice(0, 40));
  }
}

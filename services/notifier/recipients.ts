import { isEmailAddress } from '../../shared/contract/email-address.ts';
import { PermanentError } from '../../shared/errors.ts';

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
 * Vigil call an internal address for whoever can publish a notification. A URL is
 * normalised first (`normaliseWebhookUrl`), checked, deduplicated and sent as normalised:
 * spellings of one URL are one recipient, for the rate limit too.
 * @throws PermanentError WEBHOOK_NOT_ALLOWED
 */
export function resolveWebhooks(to: readonly string[], rules: WebhookRules): WebhookTarget[] {
  const byUrl = new Map(Object.entries(rules.named).map(([name, url]) => [url, name]));
  const refused: string[] = [];
  // One target per URL: the first entry that leads there names it.
  const out = new Map<string, WebhookTarget>();
  const add = (t: WebhookTarget) => {
    if (!out.has(t.url)) out.set(t.url, t);
  };
  for (const entry of new Set(to)) {
    const named = Object.hasOwn(rules.named, entry) ? rules.named[entry] : undefined;
    if (named !== undefined) add({ entry, label: entry, url: named });
    else if (byUrl.has(entry)) add({ entry, label: byUrl.get(entry)!, url: entry });
    else {
      const n = normaliseWebhookUrl(entry);
      if (!n.ok) refused.push(n.reason);
      else if (byUrl.has(n.url)) add({ entry, label: byUrl.get(n.url)!, url: n.url });
      else if (rules.allow.some((p) => underPrefix(n.url, p))) add({ entry, label: new URL(n.url).origin, url: n.url });
      else refused.push(`${describeUrl(n.url)} (neither a named target nor under an allowed prefix)`);
    }
  }
  if (refused.length > 0) throw new PermanentError('WEBHOOK_NOT_ALLOWED', `webhook target not allowed (NOTIFIER_WEBHOOKS, NOTIFIER_WEBHOOK_ALLOW): ${refused.join(', ')}`);
  return [...out.values()];
}

const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):/;
// Percent-encoded `/` and `\`: a server that decodes them before routing sees another path than the check did.
const ENCODED_SEPARATOR = /%2f|%5c/i;

/**
 * One spelling per URL, or why it is refused: http(s) only; no encoded separators or
 * backslashes in the path and no dot segments (encoded or not), which servers resolve
 * differently from the WHATWG parser; the fragment dropped (never sent) and an empty
 * query removed. The result is what the allow-list sees, the rate limit counts, and the POST goes to.
 * A reason names the scheme and origin only: a URL's path is often its secret.
 */
export function normaliseWebhookUrl(entry: string): { ok: true; url: string } | { ok: false; reason: string } {
  const scheme = SCHEME.exec(entry)?.[1]?.toLowerCase();
  if (scheme === undefined) return { ok: false, reason: `${JSON.stringify(entry.slice(0, 40))} (not an absolute URL)` };
  if (scheme !== 'http' && scheme !== 'https') return { ok: false, reason: `a ${scheme}: URL (scheme not allowed; only http and https)` };
  let u: URL;
  try {
    u = new URL(entry);
  } catch {
    return { ok: false, reason: `${JSON.stringify(entry.slice(0, 40))} (not a URL)` };
  }
  // The path as written, before the parser resolves anything in it.
  const rawPath = /^[A-Za-z][A-Za-z0-9+.-]*:[/\\]*[^/\\?#]*([^?#]*)/.exec(entry)?.[1] ?? '';
  if (ENCODED_SEPARATOR.test(rawPath) || rawPath.includes('\\')) return { ok: false, reason: `${u.origin} (an encoded or backslash path separator)` };
  if (rawPath.split('/').some((seg) => /^(?:\.|%2e){1,2}$/i.test(seg))) return { ok: false, reason: `${u.origin} (a dot segment in the path)` };
  u.hash = '';
  if (u.search === '') u.search = '';
  return { ok: true, url: u.href };
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
    const origin = new URL(u).origin;
    // Only special schemes have an origin; for the rest (file:, data:) the parser says "null".
    return origin === 'null' ? `a ${new URL(u).protocol} URL` : origin;
  } catch {
    return JSON.stringify(u.slice(0, 40));
  }
}

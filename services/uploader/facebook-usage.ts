/**
 * How long a throttled app, page or business use case waits, from the usage headers the
 * Graph API sends with its answers. Pure.
 *
 * - `X-Business-Use-Case-Usage`: `{"<id>": [{"type": "pages", "call_count": 100, …,
 *   "estimated_time_to_regain_access": <minutes>}]}`
 * - `X-Page-Usage` (and `X-App-Usage`, which usually has percentages only):
 *   `{"call_count": 100, …, "estimated_time_to_regain_access": <minutes>}`
 * - `Retry-After` (seconds), which a proxy in front of the API may add.
 */

/** What `fetch`'s Headers and a plain lower-cased record both offer. */
export interface HeaderSource {
  get(name: string): string | null;
}

/** A wait longer than this is not believed (a garbled header must not park an upload for years). */
export const MAX_WAIT_MS = 7 * 24 * 3_600_000;

export const USAGE_HEADERS = ['x-business-use-case-usage', 'x-page-usage', 'x-app-usage', 'x-ad-account-usage'] as const;

/** The longest `estimated_time_to_regain_access` (minutes) in one usage header's JSON; undefined when none. */
export function regainMinutes(headerValue: string | null | undefined): number | undefined {
  if (!headerValue) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(headerValue);
  } catch {
    return undefined;
  }
  let longest: number | undefined;
  const visit = (v: unknown, depth: number): void => {
    if (depth > 4 || v === null || typeof v !== 'object') return;
    if (Array.isArray(v)) {
      for (const x of v) visit(x, depth + 1);
      return;
    }
    for (const [k, x] of Object.entries(v)) {
      if (k === 'estimated_time_to_regain_access') {
        const m = typeof x === 'string' ? Number(x) : x;
        if (typeof m === 'number' && Number.isFinite(m) && m > 0) longest = Math.max(longest ?? 0, m);
      } else {
        visit(x, depth + 1);
      }
    }
  };
  visit(parsed, 0);
  return longest;
}

/** `Retry-After` as delta seconds or an HTTP date, in ms; undefined when absent or in the past. */
export function retryAfterHeaderMs(value: string | null | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) {
    const s = Number(v);
    return s > 0 ? s * 1000 : undefined;
  }
  const at = Date.parse(v);
  return Number.isFinite(at) && at > now ? at - now : undefined;
}

/**
 * The wait the headers ask for, in ms: the longest of them, since every throttled
 * dimension has to recover. Undefined when no header names a wait (0 minutes means that
 * dimension is not throttled): the caller uses its configured delay.
 */
export function retryAfterFromHeaders(headers: HeaderSource, now = Date.now()): number | undefined {
  let longest: number | undefined;
  for (const name of USAGE_HEADERS) {
    const minutes = regainMinutes(headers.get(name));
    if (minutes !== undefined) longest = Math.max(longest ?? 0, minutes * 60_000);
  }
  const retryAfter = retryAfterHeaderMs(headers.get('retry-after'), now);
  if (retryAfter !== undefined) longest = Math.max(longest ?? 0, retryAfter);
  return longest === undefined ? undefined : Math.round(Math.min(longest, MAX_WAIT_MS));
}

import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** A session or sign-in form token: 32 random bytes, base64url (43 characters). */
export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

/** What the database keeps of a token (or a name, an address): its sha256, hex. */
export function sha256Hex(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex');
}

/** Whether two secrets are equal, in time that does not depend on where they differ. */
export function sameSecret(a: string | undefined, b: string | undefined): boolean {
  if (typeof a !== 'string' || typeof b !== 'string' || a.length === 0) return false;
  const x = createHash('sha256').update(a).digest();
  const y = createHash('sha256').update(b).digest();
  return timingSafeEqual(x, y);
}

const TOKEN = /^[A-Za-z0-9_-]{43}$/;

/** A cookie value shaped like a token this console makes; anything else is no token. */
export function tokenShaped(v: unknown): v is string {
  return typeof v === 'string' && TOKEN.test(v);
}

/**
 * Where to go after signing in: a path on this console (one leading `/`, not `//` or `/\`,
 * no scheme, no control characters), else `/`. An open redirect would make the sign-in
 * page a phishing tool.
 */
export function safeNext(next: unknown): string {
  if (typeof next !== 'string' || next.length === 0 || next.length > 2000) return '/';
  if (!next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\')) return '/';
  if (/[\u0000-\u001f\u007f\\]/.test(next)) return '/';
  try {
    const u = new URL(next, 'http://console.invalid');
    if (u.origin !== 'http://console.invalid') return '/';
    return u.pathname + u.search + u.hash;
  } catch {
    return '/';
  }
}

import { NETWORK_ERROR_CODES } from '../../errors.ts';

/** True when `err`, or an error it wraps, is a connection that could not be made or was lost. */
export function isUnreachable(err: unknown): boolean {
  for (let e = err as { code?: unknown; name?: unknown; cause?: unknown; errors?: unknown[] } | undefined, depth = 0; e && depth < 5; depth++) {
    if (typeof e.code === 'string' && NETWORK_ERROR_CODES.has(e.code)) return true;
    // The AWS SDK's and undici's connect timeouts say so in their name.
    if (e.name === 'TimeoutError' || e.code === 'TimeoutError') return true;
    // Node's happy-eyeballs connect fails with an AggregateError of one error per address.
    if (Array.isArray(e.errors) && e.errors.some(isUnreachable)) return true;
    e = e.cause as typeof e;
  }
  return false;
}

/** Network error codes that mean "nobody answered" (waiting can help), not "answered no". */
const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE',
  'PROTOCOL_CONNECTION_LOST', 'PROTOCOL_SEQUENCE_TIMEOUT', 'TimeoutError', 'ERR_SOCKET_CONNECTION_TIMEOUT',
]);

/** True when `err`, or an error it wraps, is a connection that could not be made or was lost. */
export function isUnreachable(err: unknown): boolean {
  for (let e = err as { code?: unknown; name?: unknown; cause?: unknown; errors?: unknown[] } | undefined, depth = 0; e && depth < 5; depth++) {
    if (typeof e.code === 'string' && UNREACHABLE_CODES.has(e.code)) return true;
    if (typeof e.name === 'string' && UNREACHABLE_CODES.has(e.name)) return true;
    // Node's happy-eyeballs connect fails with an AggregateError of one error per address.
    if (Array.isArray(e.errors) && e.errors.some(isUnreachable)) return true;
    e = e.cause as typeof e;
  }
  return false;
}

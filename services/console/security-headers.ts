import type { FastifyInstance } from 'fastify';

/**
 * Headers on every answer of the console, pages, errors and redirects alike: no inline
 * script or style anywhere (everything comes from the console itself, no CDN), no framing,
 * no referrer leaving with a deep link's ids. Nothing the console answers is cached but its
 * static assets.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self'", "object-src 'none'",
  "base-uri 'none'", "frame-ancestors 'none'", "form-action 'self'",
].join('; ');

const HEADERS: Record<string, string> = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
};

/** `https`: the console is reached over TLS (`CONSOLE_SECURE_COOKIE`), so browsers are told to keep to it (HSTS). */
export function securityHeaders(app: FastifyInstance, opts: { https: boolean }): void {
  app.addHook('onSend', async (request, reply, payload) => {
    reply.headers(HEADERS);
    if (opts.https) reply.header('strict-transport-security', 'max-age=31536000');
    // A route may say more (the images' `private, no-store`), never less than no-store.
    const own = reply.getHeader('cache-control');
    if (!request.routeOptions.config.asset && !(typeof own === 'string' && /\bno-store\b/.test(own))) reply.header('cache-control', 'no-store');
    return payload;
  });
}

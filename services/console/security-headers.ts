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

export function securityHeaders(app: FastifyInstance): void {
  app.addHook('onSend', async (request, reply, payload) => {
    reply.headers(HEADERS);
    if (!request.routeOptions.config.asset) reply.header('cache-control', 'no-store');
    return payload;
  });
}

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ConsoleSession, ConsoleSessionRepository } from '../../db/repositories/console-session.repository.ts';
import { roleAllows, type Role } from '../../shared/contract/roles.ts';
import { sameSecret, sha256Hex, tokenShaped } from './tokens.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The least role a route needs; `viewer` when not given. Checked on the server for every request. */
    role?: Role;
    /** Reached without a session (the sign-in page, static assets). */
    public?: boolean;
    /** A static asset: may be cached. */
    asset?: boolean;
  }
  interface FastifyRequest {
    /** The signed-in account's session; null on public routes. */
    session: ConsoleSession | null;
  }
}

export const SESSION_COOKIE = 'vigil_session';
/** `last_seen_at` is written at most this often per session. */
export const TOUCH_EVERY_MS = 60_000;
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export interface GuardDeps {
  sessions: ConsoleSessionRepository;
  idleMs: number;
  maxMs: number;
  now: () => Date;
}

/**
 * The session from the request's cookie, or undefined. An expired session, or one of a
 * disabled account, is deleted on the way and counts as none.
 */
export async function loadSession(request: FastifyRequest, deps: GuardDeps): Promise<ConsoleSession | undefined> {
  const token = request.cookies[SESSION_COOKIE];
  if (!tokenShaped(token)) return undefined;
  const s = await deps.sessions.find(sha256Hex(token));
  if (!s) return undefined;
  const now = deps.now().getTime();
  if (s.disabled || now - s.lastSeenAt.getTime() >= deps.idleMs || now - s.createdAt.getTime() >= deps.maxMs) {
    await deps.sessions.remove(s.id);
    return undefined;
  }
  if (now - s.lastSeenAt.getTime() >= TOUCH_EVERY_MS) await deps.sessions.touch(s.id, new Date(now));
  return s;
}

/** Whether the request asks for a page (CONTRACT.md: `Accept: text/html`) rather than data or an image. */
export function wantsHtml(request: FastifyRequest): boolean {
  return /\btext\/html\b/i.test(request.headers.accept ?? '');
}

function refuse(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (wantsHtml(request)) {
    const next = request.method === 'GET' && request.url !== '/' ? `?next=${encodeURIComponent(request.url)}` : '';
    return reply.code(303).header('location', `/login${next}`).send();
  }
  return reply.code(401).type('text/plain; charset=utf-8').send('Sign in first.\n');
}

/**
 * Every route but the public ones goes through here: the session (from the database, so
 * replicas share it), then the route's role, then, for a request that changes something,
 * the session's CSRF token (form field `_csrf` or header `x-csrf-token`).
 */
export function sessionGuard(app: FastifyInstance, deps: GuardDeps): void {
  app.decorateRequest('session', null);
  app.addHook('onRequest', async (request, reply) => {
    const config = request.routeOptions.config;
    if (config.public) return;
    const session = await loadSession(request, deps);
    if (!session) return refuse(request, reply);
    request.session = session;
    const needed = config.role ?? 'viewer';
    if (!roleAllows(session.role, needed)) {
      return reply.code(403).type('text/plain; charset=utf-8').send(`Forbidden: this needs the ${needed} role or above.\n`);
    }
  });
  // After the body is parsed, so the form's field can be read.
  app.addHook('preHandler', async (request, reply) => {
    if (request.routeOptions.config.public || SAFE_METHODS.has(request.method)) return;
    const header = request.headers['x-csrf-token'];
    const field = (request.body as { _csrf?: unknown } | undefined)?._csrf;
    const token = typeof header === 'string' ? header : typeof field === 'string' ? field : undefined;
    if (!request.session || !sameSecret(token, request.session.csrfToken)) {
      return reply.code(403).type('text/plain; charset=utf-8').send('Forbidden: the form has no valid CSRF token; reload the page and try again.\n');
    }
  });
}

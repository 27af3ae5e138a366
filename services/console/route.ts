import type { FastifyInstance, RouteHandlerMethod } from 'fastify';
import type { Role } from '../../shared/contract/roles.ts';

/**
 * Declares a console route with the least role it needs, checked on the server before its
 * handler runs (403 below it); a route that is not GET also needs the session's CSRF token.
 * Every page of the console is declared through here.
 */
export function consoleRoute(app: FastifyInstance, r: { method: 'GET' | 'POST'; url: string; role: Role; handler: RouteHandlerMethod }): void {
  app.route({ method: r.method, url: r.url, config: { role: r.role }, handler: r.handler });
}

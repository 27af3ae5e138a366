import { readFileSync } from 'node:fs';
import type { Eta } from 'eta/core';
import type { FastifyReply } from 'fastify';
import { createTemplateEngine } from '../../shared/templates/engine.ts';

/**
 * The console's pages, compiled once with the house's HTML engine (every value escaped) and
 * rendered by `@fastify/view` (`renderPage(reply, 'review-queue', data)`), which adds the
 * signed-in account's `name`, `role`, `csrfToken` and the links out from `reply.locals`.
 * Every page but the sign-in form opens with `include('@_top', …)` (head, navigation, sign
 * out) and closes with `include('@_bottom', it)`.
 */
export const PAGES = [
  'login', 'home', 'review-queue', 'review-item', 'review-enrolment', 'review-row-decided', 'approvals', 'approval-proposal', 'approval-duplicates',
  'employees', 'employee', 'employee-unknown', 'employee-deleted', 'exports', 'audit',
] as const;
export type PageName = (typeof PAGES)[number];
const PARTIALS = ['_top', '_bottom', '_proposal-facts', '_face-overlay'] as const;

declare module 'fastify' {
  interface FastifyReply {
    /** What every page is rendered with besides its own data (`@fastify/view` merges it in). */
    locals: Record<string, unknown>;
  }
}

const source = (name: string): string => readFileSync(new URL(`./views/${name}.eta`, import.meta.url), 'utf8');

/**
 * Compiles every page and partial into one Eta instance, for `@fastify/view`. A page is
 * defined as `@<name>.eta`, the name `@fastify/view` asks the engine for.
 */
export function consoleViews(): Eta {
  const engine = createTemplateEngine('html');
  for (const p of PARTIALS) engine.define(p, source(p));
  for (const p of PAGES) engine.define(`${p}.eta`, source(p));
  return engine.eta;
}

/** Renders a page with `data` and the request's locals, and sends it. */
export function renderPage(reply: FastifyReply, page: PageName, data: Readonly<Record<string, unknown>>): FastifyReply {
  return reply.view(`@${page}`, data);
}

/** Served under /assets/ by `@fastify/static` (no inline script or style anywhere). */
export const ASSETS_DIR = new URL('./assets/', import.meta.url);
/** htmx 2.x, served from node_modules as /assets/htmx.min.js: no CDN, no build step. */
export const HTMX_DIR = new URL('./', import.meta.resolve('htmx.org/dist/htmx.min.js'));

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import { consoleUserRepository } from '../../db/repositories/console-user.repository.ts';
import { reviewDecisionRepository } from '../../db/repositories/review-decision.repository.ts';
import type { Database, ReviewDecisionValue, ReviewKind } from '../../db/schema.ts';
import { PermanentError } from '../../shared/errors.ts';
import { decideReview } from '../../shared/gallery/review-decision.ts';
import { doneText, plain, refusalStatusOf } from './format.ts';
import { consoleRoute } from './route.ts';
import { filterParams, parseId, parseQueueQuery } from './review-params.ts';

/** Refusals of what the form asked for (no such item, too many): 400, nothing decided. */
const BAD_REQUEST_CODES = new Set(['REVIEW_ITEM_UNKNOWN', 'REVIEW_TOO_MANY', 'REVIEW_NOTHING', 'REASON_TOO_LONG']);

/** The status a decision's refusal answers; undefined for an error that is not a refusal (a 500). */
export function refusalStatus(err: unknown): number | undefined {
  return err instanceof PermanentError ? refusalStatusOf(err.code, BAD_REQUEST_CODES) : undefined;
}

/**
 * The same for a decision on one item's own page: an item that exists but is not one the
 * queue holds (a SUCCESS snapshot, an accepted enrolment) is a conflict with what it is, 409.
 */
export function itemRefusalStatus(err: unknown): number | undefined {
  return err instanceof PermanentError && err.code === 'REVIEW_ITEM_UNKNOWN' ? 409 : refusalStatus(err);
}

/** What a decision's 303 says on the page after it (`?done=`: one of these fixed sentences, no flash cookie). */
export const DONE: Record<string, string> = {
  proposed: 'Proposed for the employee\'s gallery ("it is the employee"); a team lead approves or rejects it.',
  'not-this': 'Recorded: this face is not the employee. A later snapshot closer to it than to the gallery is not a success for them.',
  confirmed: 'Confirmed: the verdict was right. The item has left the open queue.',
  dismissed: 'Dismissed: nothing to do. The item has left the open queue.',
};

export const DONE_OF: Record<ReviewDecisionValue, string> = { confirm: 'confirmed', dismiss: 'dismissed' };

/** Confirm or dismiss review items as the session's account (never a name from the form). */
export function reviewDecider(db: Kysely<Database>) {
  const deps = { decisions: reviewDecisionRepository(db), users: consoleUserRepository(db) };
  return (p: { kind: ReviewKind; itemIds: readonly number[]; decision: ReviewDecisionValue; by: string; reason?: string }) => decideReview(deps, p);
}

/** The reason field of a decision form, if it is one text. */
export function reasonOf(body: unknown): string | undefined {
  const r = (body as { reason?: unknown } | undefined)?.reason;
  return typeof r === 'string' ? r : undefined;
}

/**
 * The queue's filters a page or form carried (query string or hidden fields), checked with
 * the queue's own rules; a bad or missing set is the default queue (open snapshots).
 */
export function carriedFilters(source: unknown): URLSearchParams {
  const q = parseQueueQuery({ ...(source as Record<string, unknown> | undefined), before: undefined });
  return 'error' in q ? new URLSearchParams() : filterParams(q.form);
}

/** `path` with the params, and `done` last when given. */
export function withParams(path: string, params: URLSearchParams, done?: string): string {
  const p = new URLSearchParams(params);
  if (done !== undefined) p.set('done', done);
  const s = p.toString();
  return s === '' ? path : `${path}?${s}`;
}

/**
 * An item's own page (`GET /review/<kind>/:id`, saying what a decision just did with
 * `?done=`) and its confirm and dismiss (`POST /review/<kind>/:id/confirm|dismiss`), as the
 * session's account: 404 for an item that is not there, the page with the refusal
 * (`itemRefusalStatus`), else 303 to where `location` says.
 */
export function itemRoutes(app: FastifyInstance, p: {
  kind: 'snapshot' | 'enrolment';
  db: Kysely<Database>;
  exists(id: number): Promise<boolean>;
  render(request: FastifyRequest, reply: FastifyReply, id: number, status: number, message: { done?: string; refused?: string }): Promise<unknown>;
  location(request: FastifyRequest, id: number, done: string): string;
}): void {
  consoleRoute(app, {
    method: 'GET', url: `/review/${p.kind}/:id`, role: 'viewer',
    handler: async (request, reply) => {
      const id = parseId((request.params as { id: string }).id);
      if (id === undefined) return plain(reply, 404, 'Not found.\n');
      return p.render(request, reply, id, 200, { done: doneText(DONE, (request.query as { done?: unknown }).done) });
    },
  });
  const decide = reviewDecider(p.db);
  for (const value of ['confirm', 'dismiss'] as const) {
    consoleRoute(app, {
      method: 'POST', url: `/review/${p.kind}/:id/${value}`, role: 'supervisor',
      handler: async (request, reply) => {
        const id = parseId((request.params as { id: string }).id);
        if (id === undefined || !(await p.exists(id))) return plain(reply, 404, 'Not found.\n');
        try {
          await decide({ kind: p.kind, itemIds: [id], decision: value, by: request.session!.name, reason: reasonOf(request.body) });
        } catch (err) {
          const status = itemRefusalStatus(err);
          if (status === undefined) throw err;
          const e = err as PermanentError;
          return p.render(request, reply, id, status, { refused: `${e.code}: ${e.message}` });
        }
        return reply.code(303).header('location', p.location(request, id, DONE_OF[value])).send();
      },
    });
  }
}

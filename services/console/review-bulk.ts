import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import type { Database, ReviewDecisionValue } from '../../db/schema.ts';
import type { PermanentError } from '../../shared/errors.ts';
import { MAX_REVIEW_BATCH } from '../../shared/gallery/review-decision.ts';
import { consoleRoute } from './route.ts';
import { renderPage } from './pages.ts';
import { carriedFilters, DONE, DONE_OF, reasonOf, refusalStatus, reviewDecider, withParams } from './review-decide.ts';
import { plain } from './format.ts';
import { ITEM_KIND, parseId, QUEUE_KINDS, type QueueKind } from './review-params.ts';

/** The absences list's columns (views/review-queue.eta), which the decided row spans. */
const ABSENCE_COLUMNS = 7;

/**
 * The queue page's own decisions: "Dismiss selected" (any list, at most 100 items, all or
 * none) and an absence alert's confirm or dismiss (it has no page of its own; its row links
 * to the snapshot that ended the streak). Both answer 303 back to the queue with its filters;
 * an absence's row posted by htmx gets the row that replaces it instead.
 */
export function reviewBulkRoutes(app: FastifyInstance, deps: { db: Kysely<Database> }): void {
  const decide = reviewDecider(deps.db);

  const refused = (reply: FastifyReply, err: unknown) => {
    const status = refusalStatus(err);
    if (status === undefined) throw err;
    const e = err as PermanentError;
    return plain(reply, status, `${status === 400 ? 'Bad request' : 'Refused'}: ${e.message}\n`);
  };

  consoleRoute(app, {
    method: 'POST', url: '/review/dismiss', role: 'supervisor',
    handler: async (request, reply) => {
      const body = (request.body ?? {}) as Record<string, unknown>;
      const kind = typeof body.kind === 'string' && body.kind !== '' ? body.kind : 'snapshots';
      if (!(QUEUE_KINDS as readonly string[]).includes(kind)) return plain(reply, 400, `Bad request: kind must be one of ${QUEUE_KINDS.join(', ')}.\n`);
      const raw = [body.ids, body['ids[]']].flat().filter((v) => v !== undefined);
      if (raw.length === 0) return plain(reply, 400, 'Bad request: choose at least one item (ids).\n');
      if (raw.length > MAX_REVIEW_BATCH) return plain(reply, 400, `Bad request: ${raw.length} items; at most ${MAX_REVIEW_BATCH} at once.\n`);
      const ids = raw.map(parseId);
      const bad = ids.findIndex((id) => id === undefined);
      if (bad >= 0) return plain(reply, 400, `Bad request: ${JSON.stringify(String(raw[bad]).slice(0, 40))} is not an item id; nothing was dismissed.\n`);
      try {
        await decide({ kind: ITEM_KIND[kind as QueueKind], itemIds: ids as number[], decision: 'dismiss', by: request.session!.name, reason: reasonOf(body) });
      } catch (err) {
        return refused(reply, err);
      }
      return reply.code(303).header('location', withParams('/review', carriedFilters(body), 'dismissed')).send();
    },
  });

  const absence = (value: ReviewDecisionValue) => async (request: FastifyRequest, reply: FastifyReply) => {
    const id = parseId((request.params as { id: string }).id);
    if (id === undefined) return plain(reply, 404, 'Not found.\n');
    try {
      await decide({ kind: 'absence', itemIds: [id], decision: value, by: request.session!.name, reason: reasonOf(request.body) });
    } catch (err) {
      if ((err as PermanentError).code === 'REVIEW_ITEM_UNKNOWN') return plain(reply, 404, 'Not found.\n');
      const status = refusalStatus(err);
      if (status !== undefined && request.headers['hx-request'] === 'true') {
        return renderPage(reply.code(status), 'review-row-decided', { columns: ABSENCE_COLUMNS, text: `Absence alert ${id}: refused: ${(err as PermanentError).message}` });
      }
      return refused(reply, err);
    }
    // htmx (the row's own form) swaps the answer in for the row: the person keeps their place in the list.
    if (request.headers['hx-request'] === 'true') {
      return renderPage(reply, 'review-row-decided', { columns: ABSENCE_COLUMNS, text: `Absence alert ${id}: ${DONE[DONE_OF[value]]}` });
    }
    const back = carriedFilters({ kind: 'absences', ...(request.body as Record<string, unknown> | undefined) });
    return reply.code(303).header('location', withParams('/review', back, DONE_OF[value])).send();
  };
  consoleRoute(app, { method: 'POST', url: '/review/absence/:id/confirm', role: 'supervisor', handler: absence('confirm') });
  consoleRoute(app, { method: 'POST', url: '/review/absence/:id/dismiss', role: 'supervisor', handler: absence('dismiss') });
}

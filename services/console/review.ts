import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import { consoleUserRepository } from '../../db/repositories/console-user.repository.ts';
import { galleryRepository } from '../../db/repositories/gallery.repository.ts';
import type { ReviewDecisionRepository } from '../../db/repositories/review-decision.repository.ts';
import type { ReviewQueuesRepository } from '../../db/repositories/review-queues.repository.ts';
import type { ReviewItem, ReviewRepository } from '../../db/repositories/review.repository.ts';
import { REVIEW_STATES } from '../../db/review-state.ts';
import type { Database } from '../../db/schema.ts';
import { roleAllows } from '../../shared/contract/roles.ts';
import { PermanentError } from '../../shared/errors.ts';
import { notThisEmployee } from '../../shared/gallery/not-this.ts';
import { propose } from '../../shared/gallery/proposals.ts';
import { consoleRoute } from './route.ts';
import { renderPage } from './pages.ts';
import { qualityLabels } from './quality-labels.ts';
import { carriedFilters, itemRoutes, withParams } from './review-decide.ts';
import { COLUMNS, queueRows } from './review-list.ts';
import { decisionView, doneText, fmt, plain, refusalStatusOf } from './format.ts';
import { encodeCursor, filterParams, KIND_RESULTS, parseId, parseQueueQuery, QUEUE_KINDS, snapshotFilter } from './review-params.ts';
import { imageSize } from './thumbnails.ts';

/** What the queue says after a decision made from it (`?done=`, a fixed sentence). */
const QUEUE_DONE: Record<string, string> = { dismissed: 'Dismissed: the chosen items have left the open queue.', confirmed: 'Confirmed: the item has left the open queue.' };

export interface ReviewDeps {
  db: Kysely<Database>;
  review: ReviewRepository;
  queues: ReviewQueuesRepository;
  decisions: ReviewDecisionRepository;
}

/** The review queue, a snapshot's page and the decisions a supervisor makes from it (CONTRACT.md "Console"). */
export function reviewRoutes(app: FastifyInstance, deps: ReviewDeps): void {
  const galleryDeps = { repo: galleryRepository(deps.db), users: consoleUserRepository(deps.db) };

  consoleRoute(app, {
    method: 'GET', url: '/review', role: 'viewer',
    handler: async (request, reply) => {
      const q = parseQueueQuery(request.query as Record<string, unknown>);
      if ('error' in q) return plain(reply, 400, `Bad request: ${q.error}\n`);
      const { rows, last } = await queueRows(deps, q);
      const filters = filterParams(q.form);
      const older = new URLSearchParams(filters);
      if (last) older.set('before', encodeCursor(last));
      const done = (request.query as { done?: unknown }).done;
      return renderPage(reply, 'review-queue', {
        kinds: QUEUE_KINDS, states: REVIEW_STATES, results: KIND_RESULTS[q.kind], form: q.form, kind: q.kind,
        rows, older: last ? older.toString() : '', filters: [...filters.entries()].map(([name, value]) => ({ name, value })),
        itemQuery: filters.size === 0 ? '' : `?${filters.toString()}`, canDecide: roleAllows(request.session!.role, 'supervisor'),
        columns: COLUMNS[q.kind], done: doneText(QUEUE_DONE, done) ?? '',
      });
    },
  });

  async function renderItem(request: FastifyRequest, reply: FastifyReply, id: number, status: number, message: { done?: string; refused?: string }) {
    const s = request.session!;
    const item = await deps.review.item(id);
    if (!item) return plain(reply, 404, 'Not found.\n');
    const filters = carriedFilters(request.query);
    const q = parseQueueQuery(Object.fromEntries(filters));
    const [image, decision, near] = await Promise.all([
      item.hasImage ? deps.review.snapshotImage(id) : undefined,
      deps.decisions.decisionOf('snapshot', id),
      // The neighbours in the queue the page was opened from, when that was the snapshots' list.
      !('error' in q) && q.kind === 'snapshots' ? deps.review.neighbours({ captureTime: item.captureTime, id }, snapshotFilter(q)) : { newer: undefined, older: undefined },
    ]);
    const size = image ? await imageSize(image) : undefined;
    const query = filters.toString();
    return renderPage(reply.code(status), 'review-item', {
      canDecide: roleAllows(s.role, 'supervisor'),
      done: message.done ?? '', refused: message.refused ?? '',
      ...itemView(item),
      image: size ?? null,
      hasImage: image !== undefined,
      decision: decision ? decisionView(decision) : null,
      query: query === '' ? '' : `?${query}`,
      next: near.older === undefined ? '' : String(near.older),
      previous: near.newer === undefined ? '' : String(near.newer),
    });
  }

  const decision = (done: string, decide: (p: { lanId: string; streamImgId: number; faceIndex?: number; by: string }) => Promise<unknown>) =>
    async (request: FastifyRequest, reply: FastifyReply) => {
      const id = parseId((request.params as { id: string }).id);
      if (id === undefined) return plain(reply, 404, 'Not found.\n');
      const rawFace = (request.body as { face?: unknown } | undefined)?.face;
      if (rawFace !== undefined && rawFace !== '' && (typeof rawFace !== 'string' || !/^[0-9]{1,3}$/.test(rawFace))) {
        return plain(reply, 400, 'Bad request: face must be a face number of the snapshot.\n');
      }
      const item = await deps.review.item(id);
      if (!item) return plain(reply, 404, 'Not found.\n');
      try {
        // The acting account is the session's, never a name from the form.
        await decide({ lanId: item.lanId, streamImgId: id, faceIndex: typeof rawFace === 'string' && rawFace !== '' ? Number(rawFace) : undefined, by: request.session!.name });
      } catch (err) {
        if (!(err instanceof PermanentError)) throw err;
        return renderItem(request, reply, id, refusalStatusOf(err.code), { refused: `${err.code}: ${err.message}` });
      }
      return reply.code(303).header('location', withParams(`/review/snapshot/${id}`, carriedFilters(request.query), done)).send();
    };

  consoleRoute(app, { method: 'POST', url: '/review/snapshot/:id/propose', role: 'supervisor', handler: decision('proposed', (p) => propose(galleryDeps, p)) });
  consoleRoute(app, { method: 'POST', url: '/review/snapshot/:id/not-this', role: 'supervisor', handler: decision('not-this', (p) => notThisEmployee(galleryDeps, p)) });

  itemRoutes(app, {
    kind: 'snapshot', db: deps.db, render: renderItem,
    exists: async (id) => (await deps.review.item(id)) !== undefined,
    location: (request, id, done) => withParams(`/review/snapshot/${id}`, carriedFilters(request.query), done),
  });
}

/** The item's facts as the page shows them, formatted once here. */
function itemView(item: ReviewItem) {
  const d = item.detail ?? {};
  const threshold = typeof d.threshold === 'number' ? d.threshold : null;
  const verdict = item.distance === null || threshold === null ? '' : item.distance <= threshold ? 'within the threshold' : 'beyond the threshold';
  return {
    id: item.id,
    lanId: item.lanId,
    status: item.status,
    result: item.result ?? '(none yet)',
    distance: fmt(item.distance),
    threshold: fmt(threshold),
    verdict,
    accuracy: item.accuracy === null ? '—' : `${(item.accuracy * 100).toFixed(1)}%`,
    trainImgId: item.trainImgId,
    captureTime: item.captureTime.toISOString(),
    bestFace: typeof d.bestFace === 'number' ? d.bestFace : null,
    faces: item.faces.map((f) => ({ index: f.faceIndex, score: fmt(f.score, 3), box: f.box, quality: qualityLabels(f.quality) })),
    alerts: item.alerts.map((a) => ({ id: a.id, kind: a.kind, state: a.state, createdAt: a.createdAt.toISOString() })),
    proposals: item.proposals,
    notThis: item.notThis,
  };
}

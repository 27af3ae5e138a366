import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import { consoleUserRepository } from '../../db/repositories/console-user.repository.ts';
import { galleryRepository } from '../../db/repositories/gallery.repository.ts';
import { REVIEW_RESULTS, type ReviewItem, type ReviewRepository } from '../../db/repositories/review.repository.ts';
import type { Database } from '../../db/schema.ts';
import { roleAllows } from '../../shared/contract/roles.ts';
import { PermanentError } from '../../shared/errors.ts';
import { notThisEmployee } from '../../shared/gallery/not-this.ts';
import { propose } from '../../shared/gallery/proposals.ts';
import { consoleRoute } from './route.ts';
import { renderPage } from './pages.ts';
import { encodeCursor, PAGE_SIZE, parseId, parseQueueQuery } from './review-params.ts';
import { imageSize } from './thumbnails.ts';

export interface ReviewDeps {
  db: Kysely<Database>;
  review: ReviewRepository;
}

/** What a decision's success says on the item page after its 303 (no flash cookie: a fixed text per `done`). */
const DONE: Record<string, string> = {
  proposed: 'Proposed for the employee\'s gallery ("it is the employee"); a team lead approves or rejects it.',
  'not-this': 'Recorded: this face is not the employee. A later snapshot closer to it than to the gallery is not a success for them.',
};

/** Refusals of the acting account itself are 403; the rest (already proposed, no face, …) are 409. */
const FORBIDDEN_CODES = new Set(['ROLE_REQUIRED', 'ACTOR_DISABLED', 'ACTOR_UNKNOWN']);

const fmt = (n: number | null | undefined, digits = 4): string => (typeof n === 'number' && Number.isFinite(n) ? n.toFixed(digits) : '—');
const plain = (reply: FastifyReply, status: number, text: string) => reply.code(status).type('text/plain; charset=utf-8').send(text);

/** The review queue, a snapshot's page and the two decisions a supervisor makes from it (CONTRACT.md "Console"). */
export function reviewRoutes(app: FastifyInstance, deps: ReviewDeps): void {
  const galleryDeps = { repo: galleryRepository(deps.db), users: consoleUserRepository(deps.db) };

  consoleRoute(app, {
    method: 'GET', url: '/review', role: 'viewer',
    handler: async (request, reply) => {
      const q = parseQueueQuery(request.query as Record<string, unknown>);
      if ('error' in q) return plain(reply, 400, `Bad request: ${q.error}\n`);
      const rows = await deps.review.queue({ ...q.filter, limit: PAGE_SIZE + 1 });
      const page = rows.slice(0, PAGE_SIZE);
      const more = rows.length > PAGE_SIZE;
      const params = new URLSearchParams(Object.entries(q.form).filter(([, v]) => v !== ''));
      if (more) params.set('before', encodeCursor(page[page.length - 1]!));
      return renderPage(reply, 'review-queue', {
        results: REVIEW_RESULTS, form: q.form,
        rows: page.map((r) => ({ id: r.id, lanId: r.lanId, result: r.result ?? '', distance: fmt(r.distance), captureTime: r.captureTime.toISOString() })),
        older: more ? params.toString() : '',
      });
    },
  });

  async function renderItem(request: FastifyRequest, reply: FastifyReply, id: number, status: number, message: { done?: string; refused?: string }) {
    const s = request.session!;
    const item = await deps.review.item(id);
    if (!item) return plain(reply, 404, 'Not found.\n');
    const image = item.hasImage ? await deps.review.snapshotImage(id) : undefined;
    const size = image ? await imageSize(image) : undefined;
    return renderPage(reply.code(status), 'review-item', {
      canDecide: roleAllows(s.role, 'supervisor'),
      done: message.done ?? '', refused: message.refused ?? '',
      ...itemView(item),
      image: size ?? null,
      hasImage: image !== undefined,
    });
  }

  consoleRoute(app, {
    method: 'GET', url: '/review/snapshot/:id', role: 'viewer',
    handler: async (request, reply) => {
      const id = parseId((request.params as { id: string }).id);
      if (id === undefined) return plain(reply, 404, 'Not found.\n');
      const done = (request.query as { done?: unknown }).done;
      return renderItem(request, reply, id, 200, { done: typeof done === 'string' ? DONE[done] : undefined });
    },
  });

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
        return renderItem(request, reply, id, FORBIDDEN_CODES.has(err.code) ? 403 : 409, { refused: `${err.code}: ${err.message}` });
      }
      return reply.code(303).header('location', `/review/snapshot/${id}?done=${done}`).send();
    };

  consoleRoute(app, { method: 'POST', url: '/review/snapshot/:id/propose', role: 'supervisor', handler: decision('proposed', (p) => propose(galleryDeps, p)) });
  consoleRoute(app, { method: 'POST', url: '/review/snapshot/:id/not-this', role: 'supervisor', handler: decision('not-this', (p) => notThisEmployee(galleryDeps, p)) });
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
    faces: item.faces.map((f) => ({
      index: f.faceIndex,
      score: fmt(f.score, 3),
      box: f.box,
      quality: Object.entries(f.quality ?? {}).map(([k, v]) => ({ name: k, value: typeof v === 'number' ? fmt(v, 3) : typeof v === 'string' || typeof v === 'boolean' ? String(v) : JSON.stringify(v) })),
    })),
    alerts: item.alerts.map((a) => ({ id: a.id, kind: a.kind, state: a.state, createdAt: a.createdAt.toISOString() })),
    proposals: item.proposals,
    notThis: item.notThis,
  };
}

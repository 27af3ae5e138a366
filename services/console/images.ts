import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { GalleryRepository } from '../../db/repositories/gallery.repository.ts';
import type { ReviewRepository } from '../../db/repositories/review.repository.ts';
import { cropFaces } from '../../shared/gallery/face-crop.ts';
import { consoleRoute } from './route.ts';
import { parseId } from './review-params.ts';
import type { ThumbnailCache } from './thumbnails.ts';

/**
 * The snapshots' and enrolments' images, only to a signed-in account (the guard answers 401
 * without a session), never cached by the browser or a proxy. `?thumb=1`: a JPEG of at most
 * 160 px a side, made once and kept in memory.
 */
export function imageRoutes(app: FastifyInstance, deps: { review: ReviewRepository; thumbs: ThumbnailCache }): void {
  const serve = (kind: 'snapshot' | 'enrolment', load: (id: number) => Promise<Buffer | undefined>) =>
    async (request: FastifyRequest, reply: FastifyReply) => {
      const id = parseId((request.params as { id?: string }).id);
      const notFound = () => reply.code(404).type('text/plain; charset=utf-8').send('Not found.\n');
      if (id === undefined) return notFound();
      const thumb = (request.query as { thumb?: string }).thumb === '1';
      const bytes = thumb ? await deps.thumbs.get(`${kind}:${id}`, () => load(id), () => deps.review.hasImage(kind, id)) : await load(id);
      if (!bytes) return notFound();
      return reply.type('image/jpeg').header('cache-control', 'private, no-store').send(bytes);
    };
  consoleRoute(app, { method: 'GET', url: '/images/snapshot/:id', role: 'viewer', handler: serve('snapshot', (id) => deps.review.snapshotImage(id)) });
  consoleRoute(app, { method: 'GET', url: '/images/enrolment/:id', role: 'viewer', handler: serve('enrolment', (id) => deps.review.enrolmentImage(id)) });
}

/**
 * One face of a snapshot, cut out with the export's margin (shared/gallery/face-crop.ts):
 * the candidate a proposal would add to the gallery. 404 for an id or face number that is
 * not one, a snapshot or face that is not there, a face whose box was not kept, or an image
 * that is gone.
 */
export function faceImageRoute(app: FastifyInstance, deps: { repo: Pick<GalleryRepository, 'snapshot' | 'snapshotImage'> }): void {
  consoleRoute(app, {
    method: 'GET', url: '/images/snapshot/:id/face/:faceIndex', role: 'viewer',
    handler: async (request, reply) => {
      const params = request.params as { id?: string; faceIndex?: string };
      const notFound = () => reply.code(404).type('text/plain; charset=utf-8').send('Not found.\n');
      const id = parseId(params.id);
      if (id === undefined || typeof params.faceIndex !== 'string' || !/^(0|[1-9][0-9]{0,2})$/.test(params.faceIndex)) return notFound();
      const faceIndex = Number(params.faceIndex);
      const snapshot = await deps.repo.snapshot(id);
      const box = snapshot?.faces.find((f) => f.faceIndex === faceIndex)?.box;
      if (!box) return notFound();
      const image = await deps.repo.snapshotImage(id);
      const crop = image && (await cropFaces(image, [{ index: faceIndex, box }])).get(faceIndex);
      if (!crop) return notFound();
      return reply.type('image/jpeg').header('cache-control', 'private, no-store').send(crop);
    },
  });
}

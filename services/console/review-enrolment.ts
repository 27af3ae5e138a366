import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { REFUSED_ENROLMENT_RESULTS, type ReviewDecisionRepository } from '../../db/repositories/review-decision.repository.ts';
import type { EnrolmentItem, ReviewQueuesRepository } from '../../db/repositories/review-queues.repository.ts';
import type { ReviewRepository } from '../../db/repositories/review.repository.ts';
import type { Database } from '../../db/schema.ts';
import type { Kysely } from 'kysely';
import { lanIdSegment } from '../../shared/contract/console-links.ts';
import { roleAllows } from '../../shared/contract/roles.ts';
import { renderPage } from './pages.ts';
import { qualityLabels, reasonLabel } from './quality-labels.ts';
import { itemRoutes } from './review-decide.ts';
import { decisionView, fmt, plain } from './format.ts';
import { imageSize } from './thumbnails.ts';

/** What each refusal means, in words. */
const MEANING: Record<string, string> = {
  NO_FACES_FOUND: 'No face was found in the photo.',
  MULTIPLE_FACES: 'More than one face was found; an enrolment photo must show the employee alone.',
  LOW_QUALITY: 'The face failed the quality gate:',
  DUPLICATE_IDENTITY: "The face is close to another employee's gallery face: it may be that person, or a lookalike.",
  SUCCESS: 'The photo was accepted into the gallery.',
};

/** `GET /review/enrolment/<id>` (CONTRACT.md deep link, `itemRoutes`): a refused enrolment photo and its confirm or dismiss. */
export function reviewEnrolmentRoutes(app: FastifyInstance, deps: { db: Kysely<Database>; review: ReviewRepository; queues: ReviewQueuesRepository; decisions: ReviewDecisionRepository }): void {
  async function render(request: FastifyRequest, reply: FastifyReply, id: number, status: number, message: { done?: string; refused?: string }) {
    const item = await deps.queues.enrolment(id);
    if (!item) return plain(reply, 404, 'Not found.\n');
    const [image, decision] = await Promise.all([item.hasImage ? deps.review.enrolmentImage(id) : undefined, deps.decisions.decisionOf('enrolment', id)]);
    const size = image ? await imageSize(image) : undefined;
    return renderPage(reply.code(status), 'review-enrolment', {
      ...enrolmentView(item),
      canDecide: roleAllows(request.session!.role, 'supervisor') && (REFUSED_ENROLMENT_RESULTS as readonly string[]).includes(item.result ?? ''),
      done: message.done ?? '', refused: message.refused ?? '',
      image: size ?? null, hasImage: image !== undefined,
      decision: decision ? decisionView(decision) : null,
    });
  }

  itemRoutes(app, {
    kind: 'enrolment', db: deps.db, render,
    exists: async (id) => (await deps.queues.enrolment(id)) !== undefined,
    location: (_request, id, done) => `/review/enrolment/${id}?done=${done}`,
  });
}

type Box = { x: number; y: number; width: number; height: number };
const isBox = (b: unknown): b is Box =>
  b !== null && typeof b === 'object' && ['x', 'y', 'width', 'height'].every((k) => typeof (b as Record<string, unknown>)[k] === 'number');

/** The enrolment's facts from its row and facetraining's attempt detail (faces, reasons, duplicateOf). */
export function enrolmentView(item: EnrolmentItem) {
  const d = item.detail ?? {};
  const faces = Array.isArray(d.faces) ? (d.faces as unknown[]) : [];
  const dup = d.duplicateOf !== null && typeof d.duplicateOf === 'object' ? (d.duplicateOf as Record<string, unknown>) : undefined;
  const result = item.result ?? '(none yet)';
  return {
    id: item.id,
    lanId: item.lanId,
    employeePath: lanIdSegment(item.lanId),
    result,
    meaning: MEANING[result] ?? '',
    captureTime: item.captureTime.toISOString(),
    processedTime: item.processedTime ? item.processedTime.toISOString() : '—',
    numFaces: item.numFaces === null ? '—' : String(item.numFaces),
    // One face is the one judged; of several, none is.
    bestFace: faces.length === 1 ? 0 : null,
    faces: faces.map((f, index) => {
      const face = (f ?? {}) as Record<string, unknown>;
      return {
        index, box: isBox(face.box) ? face.box : null, score: fmt(typeof face.score === 'number' ? face.score : null, 3),
        quality: qualityLabels(face.quality !== null && typeof face.quality === 'object' ? (face.quality as Record<string, unknown>) : null),
      };
    }),
    reasons: item.result === 'LOW_QUALITY' && Array.isArray(d.reasons) ? (d.reasons as unknown[]).map(reasonLabel) : [],
    duplicate: dup && typeof dup.lanId === 'string'
      ? {
          lanId: dup.lanId, path: lanIdSegment(dup.lanId),
          trainImgId: typeof dup.trainImgId === 'number' ? dup.trainImgId : null,
          distance: fmt(typeof dup.distance === 'number' ? dup.distance : null),
        }
      : null,
  };
}

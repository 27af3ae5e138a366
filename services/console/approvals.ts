import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import { approvalsRepository } from '../../db/repositories/approvals.repository.ts';
import { consoleUserRepository } from '../../db/repositories/console-user.repository.ts';
import { galleryFacesRepository } from '../../db/repositories/gallery-faces.repository.ts';
import { galleryRepository } from '../../db/repositories/gallery.repository.ts';
import { identityRepository } from '../../db/repositories/identity.repository.ts';
import type { Database } from '../../db/schema.ts';
import type { FaceConfig } from '../../shared/config/face-config.ts';
import { lanIdSegment } from '../../shared/contract/console-links.ts';
import { PermanentError } from '../../shared/errors.ts';
import { acceptDuplicate } from '../../shared/gallery/accept-duplicate.ts';
import { duplicateChecker, type DuplicateChecker } from '../../shared/gallery/duplicate-check.ts';
import type { GalleryDeps } from '../../shared/gallery/gallery-deps.ts';
import { approve, reject } from '../../shared/gallery/proposals.ts';
import { MAX_REASON } from '../../shared/gallery/reason.ts';
import type { Logger } from '../../shared/logger.ts';
import type { Publisher } from '../../shared/runtime/publisher.ts';
import { faceImageRoute } from './images.ts';
import { renderPage } from './pages.ts';
import { doneText, fmt, plain, refusalStatusOf } from './format.ts';
import { proposalDryRun, proposalFacts, proposalFactsPage } from './proposal-facts.ts';
import { parseLanIdFilter } from './employee-params.ts';
import { parseId } from './review-params.ts';
import { consoleRoute } from './route.ts';

/** What the approvals pages are built from: the console's deps (app.ts `ConsoleDeps`) satisfy it. */
export interface ApprovalDeps {
  db: Kysely<Database>;
  logger: Logger;
  face: Pick<FaceConfig, 'matchThreshold' | 'gallerySize' | 'duplicateMargin'>;
  publisher?: Pick<Publisher, 'publish'>;
}


/** Proposals per page: the page's reads are batched (proposal-facts.ts); each costs an index search. */
export const PROPOSALS_PAGE = 20;
export const DUPLICATES_PAGE = 50;

/** What a decision's success says on the list after its 303: a fixed text per `done`. */
const DONE: Record<string, string> = {
  approved: 'Approved: the face is now an enrolment of the employee, queued for facetraining, which checks it like any other (quality, duplicate identities).',
  rejected: 'Rejected, with your reason; the gallery is unchanged.',
  accepted: 'Accepted as different people: the enrolment is checked again by facetraining and passes unless it is close to yet another employee.',
};


/** `lan_id` and `after` of a list's query string, checked: a message for a 400 when one is wrong. */
function listQuery(query: Record<string, unknown>): { lanId?: string; after?: number } | { error: string } {
  const filter = parseLanIdFilter(query.lan_id);
  if ('error' in filter) return filter;
  const after = query.after;
  if (after !== undefined && after !== '' && parseId(after) === undefined) return { error: 'after must be a cursor from the list\'s "Next" link.' };
  return { lanId: filter.lanId, after: typeof after === 'string' && after !== '' ? Number(after) : undefined };
}

/** The reason field of a form: trimmed, or the message of a 400. */
function reasonOf(body: unknown, required: boolean): { reason: string } | { error: string } {
  const raw = (body as { reason?: unknown } | undefined)?.reason;
  if (raw !== undefined && typeof raw !== 'string') return { error: 'The reason must be one text.' };
  const reason = (raw ?? '').trim();
  if (required && reason === '') return { error: 'A rejection needs a reason: say why this face should not join the gallery.' };
  if (reason.length > MAX_REASON) return { error: `The reason is longer than ${MAX_REASON} characters.` };
  return { reason };
}

/**
 * Page 2 of issue 28, for team leads: the pending gallery proposals with what to weigh
 * (the candidate face, the employee's gallery and the distances to it, the nearest other
 * employees, the dry run), approve and reject, and the enrolments refused as duplicate
 * identities with "accept as different people".
 */
export function approvalRoutes(app: FastifyInstance, deps: ApprovalDeps): void {
  const face = deps.face;
  const repo = galleryRepository(deps.db);
  const users = consoleUserRepository(deps.db);
  const lists = approvalsRepository(deps.db);
  const identities = identityRepository(deps.db);
  const log = deps.logger.child({ service: 'console' });
  const settings = { threshold: face.matchThreshold, gallerySize: face.gallerySize };
  // After the decision committed, as `vigil gallery` sends it. A failed publish leaves the
  // row in `N`, which the orphan rescue (upkeep, `vigil rescue`) publishes again: the
  // decision stands, so it is logged rather than answered as a failure.
  const publishTraining = async (trainImgId: number) => {
    try {
      await deps.publisher!.publish('facetraining', { id: trainImgId }, { messageId: randomUUID() });
    } catch (err) {
      log.warn({ err, trainImgId }, 'train_img not published to facetraining; the orphan rescue will');
    }
  };
  const noBroker = () => new PermanentError('NO_BROKER', 'refused: this console has no broker connection to queue the face for facetraining; decide with vigil gallery (NO_BROKER)');
  const galleryDeps: GalleryDeps = { repo, users, publishTraining, settings };
  // One index per model met, kept current incrementally (shared/gallery/duplicate-check.ts).
  const checkers = new Map<string, DuplicateChecker>();
  const faces = galleryFacesRepository(deps.db);
  const checkerFor = (model: string) => {
    let c = checkers.get(model);
    if (!c) checkers.set(model, (c = duplicateChecker({ faces, model, bound: face.matchThreshold - face.duplicateMargin, log })));
    return c;
  };
  const factsDeps = { repo, checkerFor, settings };

  faceImageRoute(app, { repo });

  consoleRoute(app, {
    method: 'GET', url: '/approvals', role: 'teamlead',
    handler: async (request, reply) => {
      const q = listQuery(request.query as Record<string, unknown>);
      if ('error' in q) return plain(reply, 400, `Bad request: ${q.error}\n`);
      const rows = await lists.pendingProposals({ ...q, limit: PROPOSALS_PAGE + 1 });
      const page = rows.slice(0, PROPOSALS_PAGE);
      const facts = await proposalFactsPage(factsDeps, page);
      const proposals = page.map((p, i) => ({ id: p.id, lanId: p.lanId, path: lanIdSegment(p.lanId), proposedBy: p.proposedBy, proposedAt: p.proposedAt.toISOString(), ...facts[i]! }));
      const next = new URLSearchParams(q.lanId === undefined ? {} : { lan_id: q.lanId });
      if (rows.length > PROPOSALS_PAGE) next.set('after', String(page[page.length - 1]!.id));
      const done = (request.query as { done?: unknown }).done;
      return renderPage(reply, 'approvals', {
        lanId: q.lanId ?? '', proposals, next: rows.length > PROPOSALS_PAGE ? next.toString() : '',
        done: doneText(DONE, done) ?? '',
      });
    },
  });

  async function renderProposal(request: FastifyRequest, reply: FastifyReply, id: number, status: number, refused = '') {
    const p = await repo.proposal(id);
    if (!p) return plain(reply, 404, 'Not found.\n');
    const pending = p.status === 'pending';
    return renderPage(reply.code(status), 'approval-proposal', {
      id: p.id, lanId: p.lanId, path: lanIdSegment(p.lanId), proposedBy: p.proposedBy, proposedAt: p.proposedAt.toISOString(),
      status: p.status, decidedBy: p.decidedBy ?? '', decidedAt: p.decidedAt?.toISOString() ?? '', decisionReason: p.reason ?? '', trainImgId: p.trainImgId,
      pending, ownProposal: p.proposedBy === request.session!.name,
      refused, reasonMax: MAX_REASON,
      ...(await proposalFacts(factsDeps, p)),
      // The costly part (re-scores 200 snapshots), on this page only and only while it can still change something.
      dryRun: pending ? await proposalDryRun(galleryDeps, p) : null,
    });
  }

  consoleRoute(app, {
    method: 'GET', url: '/approvals/proposal/:id', role: 'teamlead',
    handler: async (request, reply) => {
      const id = parseId((request.params as { id: string }).id);
      if (id === undefined) return plain(reply, 404, 'Not found.\n');
      return renderProposal(request, reply, id, 200);
    },
  });

  const decision = (done: string, decide: (request: FastifyRequest, id: number) => Promise<string | undefined>) =>
    async (request: FastifyRequest, reply: FastifyReply) => {
      const id = parseId((request.params as { id: string }).id);
      if (id === undefined) return plain(reply, 404, 'Not found.\n');
      if (!(await repo.proposal(id))) return plain(reply, 404, 'Not found.\n');
      try {
        const bad = await decide(request, id);
        if (bad !== undefined) return renderProposal(request, reply, id, 400, bad);
      } catch (err) {
        if (!(err instanceof PermanentError)) throw err;
        return renderProposal(request, reply, id, refusalStatusOf(err.code), `${err.code}: ${err.message}`);
      }
      return reply.code(303).header('location', `/approvals?done=${done}`).send();
    };

  // The acting account is the session's, never a name from the form.
  consoleRoute(app, {
    method: 'POST', url: '/approvals/proposal/:id/approve', role: 'teamlead',
    handler: decision('approved', async (request, id) => {
      if (!deps.publisher) throw noBroker();
      await approve(galleryDeps, { proposalId: id, by: request.session!.name });
      return undefined;
    }),
  });
  consoleRoute(app, {
    method: 'POST', url: '/approvals/proposal/:id/reject', role: 'teamlead',
    handler: decision('rejected', async (request, id) => {
      const r = reasonOf(request.body, true);
      if ('error' in r) return r.error;
      await reject(galleryDeps, { proposalId: id, by: request.session!.name, reason: r.reason });
      return undefined;
    }),
  });

  async function renderDuplicates(request: FastifyRequest, reply: FastifyReply, status: number, message: { done?: string; refused?: string }) {
    const q = listQuery(request.query as Record<string, unknown>);
    if ('error' in q) return plain(reply, 400, `Bad request: ${q.error}\n`);
    const rows = await lists.refusedDuplicates({ ...q, limit: DUPLICATES_PAGE + 1 });
    const page = rows.slice(0, DUPLICATES_PAGE);
    const next = new URLSearchParams(q.lanId === undefined ? {} : { lan_id: q.lanId });
    if (rows.length > DUPLICATES_PAGE) next.set('after', String(page[page.length - 1]!.trainImgId));
    return renderPage(reply.code(status), 'approval-duplicates', {
      lanId: q.lanId ?? '', done: message.done ?? '', refused: message.refused ?? '', reasonMax: MAX_REASON,
      next: rows.length > DUPLICATES_PAGE ? next.toString() : '',
      rows: page.map((r) => ({
        trainImgId: r.trainImgId, lanId: r.lanId, path: lanIdSegment(r.lanId), captureTime: r.captureTime.toISOString(), processedTime: r.processedTime?.toISOString() ?? '',
        other: r.duplicateOf && { lanId: r.duplicateOf.lanId, path: lanIdSegment(r.duplicateOf.lanId), trainImgId: r.duplicateOf.trainImgId, distance: fmt(r.duplicateOf.distance) },
        bound: fmt(r.bound),
      })),
    });
  }

  consoleRoute(app, {
    method: 'GET', url: '/approvals/duplicates', role: 'teamlead',
    handler: async (request, reply) => {
      const done = (request.query as { done?: unknown }).done;
      return renderDuplicates(request, reply, 200, { done: doneText(DONE, done) });
    },
  });

  consoleRoute(app, {
    method: 'POST', url: '/approvals/duplicates/:id/accept', role: 'teamlead',
    handler: async (request, reply) => {
      const id = parseId((request.params as { id: string }).id);
      if (id === undefined) return plain(reply, 404, 'Not found.\n');
      const r = reasonOf(request.body, false);
      if ('error' in r) return renderDuplicates(request, reply, 400, { refused: r.error });
      try {
        if (!deps.publisher) throw noBroker();
        await acceptDuplicate(
          { users, identities, requeue: publishTraining },
          { trainImgId: id, by: request.session!.name, reason: r.reason === '' ? undefined : r.reason },
        );
      } catch (err) {
        if (!(err instanceof PermanentError)) throw err;
        if (err.code === 'TRAIN_IMG_UNKNOWN') return plain(reply, 404, 'Not found.\n');
        return renderDuplicates(request, reply, refusalStatusOf(err.code), { refused: `${err.code}: ${err.message}` });
      }
      return reply.code(303).header('location', '/approvals/duplicates?done=accepted').send();
    },
  });
}

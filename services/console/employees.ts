import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import { consoleUserRepository } from '../../db/repositories/console-user.repository.ts';
import { employeeRepository } from '../../db/repositories/employee.repository.ts';
import { galleryRepository } from '../../db/repositories/gallery.repository.ts';
import { operationsRepository } from '../../db/repositories/operations.repository.ts';
import type { Database } from '../../db/schema.ts';
import type { FaceConfig } from '../../shared/config/face-config.ts';
import { consolePaths, lanIdSegment } from '../../shared/contract/console-links.ts';
import { roleAllows } from '../../shared/contract/roles.ts';
import { deleteEmployee } from '../../shared/employee-deletion.ts';
import { PermanentError, TransientError } from '../../shared/errors.ts';
import { removeFace, restoreFace } from '../../shared/gallery/removal.ts';
import { setThreshold } from '../../shared/gallery/threshold.ts';
import type { LockManager } from '../../shared/lock.ts';
import { parseDays, parseLanId, parseSearchQuery, parseThreshold } from './employee-params.ts';
import { DEFAULT_DAYS } from './results-chart.ts';
import { employeePageData } from './employee-view.ts';
import { renderPage } from './pages.ts';
import { parseId } from './review-params.ts';
import { consoleRoute } from './route.ts';
import { plain, refusalStatusOf } from './format.ts';

export interface EmployeeDeps {
  db: Kysely<Database>;
  /** FACE_MATCH_THRESHOLD and FACE_GALLERY_SIZE, as the face services judge with them. */
  face: Pick<FaceConfig, 'matchThreshold' | 'gallerySize'>;
  /** The employee lock `delete-user` takes; without it (an app built without one) deleting answers 503. */
  locks?: Pick<LockManager, 'withLock'>;
  now: () => Date;
}

/** How many lan_ids a page of the employee list shows. */
export const EMPLOYEES_PAGE = 50;

const employeePath = consolePaths.employee;
/** Refusals of what the form holds (a threshold out of its bounds, a reason too long): 400, nothing changed. */
const BAD_INPUT_CODES: ReadonlySet<string> = new Set(['THRESHOLD_OUT_OF_BOUNDS', 'REASON_TOO_LONG']);

/** What the page says after a change's 303: fixed sentences picked by the query (no flash cookie), with the face's id. */
function noticeOf(query: Record<string, unknown>): { notice: string; undo: number | null } {
  const removed = parseId(query.removed);
  if (removed !== undefined) return { notice: `Face ${removed} (train_img) is out of the gallery: it is no longer compared.`, undo: removed };
  const restored = parseId(query.restored);
  if (restored !== undefined) return { notice: `Face ${restored} (train_img) is back in the gallery.`, undo: null };
  if (query.threshold === 'set') return { notice: "The employee's own threshold is set; the next snapshot is judged with it.", undo: null };
  if (query.threshold === 'cleared') return { notice: "The employee's own threshold is cleared: the site threshold applies.", undo: null };
  return { notice: '', undo: null };
}

/**
 * The employee list and the employee page (CONTRACT.md's deep link `/employees/<lan_id>`):
 * the gallery with each face's provenance, removal with undo, the threshold with its
 * suggestion, the results per day, the alerts, and deleting the employee.
 */
export function employeeRoutes(app: FastifyInstance, deps: EmployeeDeps): void {
  const employees = employeeRepository(deps.db);
  const face = deps.face;
  const settings = { threshold: face.matchThreshold, gallerySize: face.gallerySize };
  const gallery = { repo: galleryRepository(deps.db), users: consoleUserRepository(deps.db), settings };
  const viewDeps = { db: deps.db, employees, gallery };
  const operations = operationsRepository(deps.db);

  consoleRoute(app, {
    method: 'GET', url: '/employees', role: 'viewer',
    handler: async (request, reply) => {
      const q = parseSearchQuery(request.query as Record<string, unknown>);
      if ('error' in q) return plain(reply, 400, `Bad request: ${q.error}\n`);
      const rows = await employees.search({ prefix: q.prefix, after: q.after, limit: EMPLOYEES_PAGE + 1 });
      const page = rows.slice(0, EMPLOYEES_PAGE);
      const next = rows.length > EMPLOYEES_PAGE ? new URLSearchParams({ ...(q.prefix !== '' && { prefix: q.prefix }), after: page[page.length - 1]! }).toString() : '';
      return renderPage(reply, 'employees', { prefix: q.prefix, rows: page.map((lanId) => ({ lanId, path: lanIdSegment(lanId) })), next });
    },
  });

  /** The employee page with `status` and what it says; 404 for a lan_id no row has. */
  async function renderEmployee(request: FastifyRequest, reply: FastifyReply, lanId: string, status: number, say: { notice?: string; undo?: number | null; refused?: string; days?: number }) {
    if (!(await employees.known(lanId))) return renderPage(reply.code(404), 'employee-unknown', { lanId });
    const role = request.session!.role;
    const data = await employeePageData(viewDeps, lanId, { now: deps.now(), days: say.days ?? parseDaysOr30(request) });
    const undo = say.undo != null && data.gallery.removed.some((f) => f.trainImgId === say.undo) ? say.undo : null;
    return renderPage(reply.code(status), 'employee', {
      ...data, notice: say.notice ?? '', undo, refused: say.refused ?? '',
      canTeamlead: roleAllows(role, 'teamlead'), canAdmin: roleAllows(role, 'admin'),
    });
  }

  consoleRoute(app, {
    method: 'GET', url: '/employees/:lanId', role: 'viewer',
    handler: async (request, reply) => {
      const lanId = parseLanId((request.params as { lanId: string }).lanId);
      if (lanId === undefined) return renderPage(reply.code(404), 'employee-unknown', { lanId: '' });
      const query = request.query as Record<string, unknown>;
      const days = parseDays(query.days);
      if (typeof days !== 'number') return plain(reply, 400, `Bad request: ${days.error}\n`);
      return renderEmployee(request, reply, lanId, 200, { ...noticeOf(query), days });
    },
  });

  /**
   * A change made from the page by the session's account (never a name from the form): 303
   * back to the page with what it says, or the page with the refusal (403 for the account,
   * 400 for what the form holds, 409 for the rest).
   */
  const change = (act: (lanId: string, request: FastifyRequest) => Promise<string | { status: number; refused: string }>) =>
    async (request: FastifyRequest, reply: FastifyReply) => {
      const lanId = parseLanId((request.params as { lanId: string }).lanId);
      if (lanId === undefined || !(await employees.known(lanId))) return renderPage(reply.code(404), 'employee-unknown', { lanId: lanId ?? '' });
      let done: string | { status: number; refused: string };
      try {
        done = await act(lanId, request);
      } catch (err) {
        if (!(err instanceof PermanentError)) throw err;
        return renderEmployee(request, reply, lanId, refusalStatusOf(err.code, BAD_INPUT_CODES), { refused: `${err.code}: ${err.message}` });
      }
      if (typeof done !== 'string') return renderEmployee(request, reply, lanId, done.status, { refused: done.refused });
      return reply.code(303).header('location', `${employeePath(lanId)}?${done}`).send();
    };

  /** The face of the path, when it is one of this employee's gallery faces (active or removed). */
  async function ownFace(lanId: string, raw: unknown): Promise<number | undefined> {
    const id = parseId(raw);
    if (id === undefined) return undefined;
    const face = await gallery.repo.galleryFace(id);
    return face && (await gallery.repo.sameEmployee(face.lanId, lanId)) ? id : undefined;
  }

  const faceChange = (act: (trainImgId: number, request: FastifyRequest) => Promise<string>) =>
    change(async (lanId, request) => {
      const id = await ownFace(lanId, (request.params as { trainImgId: string }).trainImgId);
      if (id === undefined) return { status: 404, refused: 'No such gallery face of this employee.' };
      return act(id, request);
    });

  consoleRoute(app, {
    method: 'POST', url: '/employees/:lanId/gallery/:trainImgId/remove', role: 'teamlead',
    handler: faceChange(async (trainImgId, request) => {
      const reason = (request.body as { reason?: unknown } | undefined)?.reason;
      await removeFace(gallery, { trainImgId, by: request.session!.name, reason: typeof reason === 'string' ? reason : undefined });
      return `removed=${trainImgId}`;
    }),
  });

  consoleRoute(app, {
    method: 'POST', url: '/employees/:lanId/gallery/:trainImgId/restore', role: 'teamlead',
    handler: faceChange(async (trainImgId, request) => {
      await restoreFace(gallery, { trainImgId, by: request.session!.name });
      return `restored=${trainImgId}`;
    }),
  });

  consoleRoute(app, {
    method: 'POST', url: '/employees/:lanId/threshold', role: 'teamlead',
    handler: change(async (lanId, request) => {
      const body = (request.body ?? {}) as { threshold?: unknown; clear?: unknown; reason?: unknown };
      const reason = typeof body.reason === 'string' ? body.reason : undefined;
      if (body.clear !== undefined) {
        await setThreshold(gallery, { lanId, threshold: null, by: request.session!.name, reason });
        return 'threshold=cleared';
      }
      const threshold = parseThreshold(body.threshold);
      if (threshold === undefined) return { status: 400, refused: 'The threshold must be a decimal number, e.g. 0.55; nothing changed.' };
      await setThreshold(gallery, { lanId, threshold, by: request.session!.name, reason });
      return 'threshold=set';
    }),
  });

  consoleRoute(app, {
    method: 'POST', url: '/employees/:lanId/delete', role: 'admin',
    handler: async (request, reply) => {
      const lanId = parseLanId((request.params as { lanId: string }).lanId);
      if (lanId === undefined || !(await employees.known(lanId))) return renderPage(reply.code(404), 'employee-unknown', { lanId: lanId ?? '' });
      const typed = (request.body as { confirm?: unknown } | undefined)?.confirm;
      // Byte for byte: the confirmation is a person reading the name back, not the identity rule.
      if (typed !== lanId) {
        return renderEmployee(request, reply, lanId, 400, { refused: 'The lan_id typed to confirm is not this employee\'s, exactly as shown: nothing deleted.' });
      }
      if (!deps.locks) return renderEmployee(request, reply, lanId, 503, { refused: 'This console was started without the employee lock, so it cannot delete: use vigil delete-user.' });
      try {
        const done = await deleteEmployee({ repo: operations, locks: deps.locks, users: gallery.users }, { lanId, by: request.session!.name });
        return renderPage(reply, 'employee-deleted', {
          lanId: done.lanId, spellings: done.spellings, removed: Object.entries(done.removed).map(([what, count]) => ({ what, count })),
        });
      } catch (err) {
        if (err instanceof PermanentError) {
          return renderEmployee(request, reply, lanId, refusalStatusOf(err.code, BAD_INPUT_CODES), { refused: `${err.code}: ${err.message}` });
        }
        // The lock not had in time, or a row written while deleting: nothing was deleted.
        if (err instanceof TransientError) return renderEmployee(request, reply, lanId, 503, { refused: `${err.code}: ${err.message} Try again.` });
        throw err;
      }
    },
  });
}

/** The page's `days` after a refusal re-renders it (a bad one was answered 400 before any change). */
function parseDaysOr30(request: FastifyRequest): number {
  const d = parseDays((request.query as Record<string, unknown>).days);
  return typeof d === 'number' ? d : DEFAULT_DAYS;
}

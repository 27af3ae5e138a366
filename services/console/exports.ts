import { Transform } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import { writeAudit } from '../../db/repositories/audit.repository.ts';
import type { FaceExportRepository } from '../../db/repositories/face-export.repository.ts';
import type { Database } from '../../db/schema.ts';
import { errorCode } from '../../shared/errors.ts';
import { EXPORT_DAY_MS, faceExportOptions } from '../../shared/gallery/face-export-options.ts';
import { writeFaceExport } from '../../shared/gallery/face-export.ts';
import { parseLanIdFilter } from './employee-params.ts';
import { renderPage } from './pages.ts';
import { consoleRoute } from './route.ts';
import { plain } from './format.ts';

export interface ExportDeps {
  db: Kysely<Database>;
  /** The export's reads, as `vigil export faces` makes them (`faceExportRepository`). */
  repo: FaceExportRepository;
  now: () => Date;
}

export const MAX_EXPORT_DAYS = 90;

export interface ExportQuery {
  days: number;
  refused: boolean;
  lanId?: string;
}

/** The download's query string, checked: the options, or a message saying what is wrong (a 400). */
export function parseExportQuery(query: Record<string, unknown>): ExportQuery | { error: string } {
  const { days, refused, lan_id: lanId } = query;
  if (typeof days !== 'string' || !/^[1-9][0-9]?$/.test(days) || Number(days) > MAX_EXPORT_DAYS) {
    return { error: `days must be a whole number of days from 1 to ${MAX_EXPORT_DAYS}.` };
  }
  if (refused !== undefined && refused !== '' && refused !== '1') return { error: 'refused must be 1 or left out.' };
  const filter = parseLanIdFilter(lanId);
  if ('error' in filter) return filter;
  return { days: Number(days), refused: refused === '1', lanId: filter.lanId };
}

/** Exports made at once by one console process; one more answers 429. */
export const MAX_RUNNING_EXPORTS = 2;

/**
 * The exports page and its download: the ZIP `vigil export faces` writes (`writeFaceExport`,
 * same reads, same options), streamed to the browser as it is made. A GET: it changes
 * nothing but the audit log, which gets one row per export once it has ended, either way.
 */
export function exportRoutes(app: FastifyInstance, deps: ExportDeps): void {
  // Each export decodes and crops images for as long as it runs: a few at once per replica,
  // so a burst of downloads cannot take the console's CPU and memory from everyone else.
  let running = 0;
  consoleRoute(app, {
    method: 'GET', url: '/exports', role: 'supervisor',
    handler: async (_request, reply) => renderPage(reply, 'exports', { maxDays: MAX_EXPORT_DAYS }),
  });

  consoleRoute(app, {
    method: 'GET', url: '/exports/faces.zip', role: 'supervisor',
    handler: async (request, reply) => {
      const q = parseExportQuery(request.query as Record<string, unknown>);
      if ('error' in q) return plain(reply, 400, `Bad request: ${q.error}\n`);
      if (running >= MAX_RUNNING_EXPORTS) {
        return plain(reply.header('retry-after', '30'), 429, `${running} exports are being made; try again in a minute.\n`);
      }
      running++;
      const now = deps.now();
      const options = faceExportOptions({ backMs: q.days * EXPORT_DAY_MS, refused: q.refused, lanId: q.lanId }, now);
      const actor = request.session!.name;
      const asked = { days: q.days, refused: q.refused, lanId: q.lanId ?? null, since: options.since.toISOString() };
      // What Fastify sends; it tells when the archive's first bytes reach it.
      let firstBytes!: () => void;
      const started = new Promise<true>((resolve) => (firstBytes = () => resolve(true)));
      const body = new Transform({ transform(chunk, _enc, done) { firstBytes(); done(null, chunk); } });
      // A client gone before the first bytes stops the export too (after them, Fastify does).
      const gone = () => body.destroy();
      reply.raw.once('close', gone);
      const exported = writeFaceExport({ repo: deps.repo, now: () => now }, options, body);
      exported.then(() => running--, () => running--);
      // Audited once it has ended, either way; not awaited by the answer.
      exported.then(
        (summary) => writeAudit(deps.db, { actor, action: 'console.export', lanId: q.lanId, subject: 'faces.zip', after: { ...asked, ...summary } }),
        async (err: unknown) => {
          // A client that went away (Fastify then destroys the stream: a premature close) is
          // not the export's fault, so it is logged below error level.
          const code = errorCode(err);
          request.log[code === 'ERR_STREAM_PREMATURE_CLOSE' ? 'info' : 'error']({ err, code }, 'console face export failed');
          await writeAudit(deps.db, { actor, action: 'console.export_failed', lanId: q.lanId, subject: 'faces.zip', after: { ...asked, error: code } });
        },
      ).catch((err: unknown) => request.log.error({ err }, 'console export: the audit row was not written'));
      // Failing before its first byte, it is a plain 500 and no file at all.
      const ok = await Promise.race([started, exported.then(() => true, () => false)]);
      reply.raw.off('close', gone);
      if (!ok) return plain(reply, 500, 'The export failed before anything was sent; try again, or ask an administrator to look at the console\'s log.\n');
      // From here on a failure destroys `body`; with bytes sent, Fastify then destroys the
      // connection, so the client sees a broken download (no last chunk), never a short ZIP
      // that looks complete.
      const date = now.toISOString().slice(0, 10);
      return reply
        .type('application/zip')
        .header('content-disposition', `attachment; filename="vigil-faces-${date}-${q.days}d${q.refused ? '-refused' : ''}.zip"`)
        .header('cache-control', 'private, no-store')
        .send(body);
    },
  });
}

import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import { listAudit, type AuditFilter, type AuditRow } from '../../db/repositories/audit.repository.ts';
import type { Database } from '../../db/schema.ts';
import { renderPage } from './pages.ts';
import { decodeCursor, encodeCursor, parseTime } from './review-params.ts';
import { consoleRoute } from './route.ts';
import { plain } from './format.ts';

export const AUDIT_PAGE_SIZE = 50;

type AuditForm = { actor: string; action: string; lan_id: string; from: string; to: string };

/** The log's query string, checked: the filter, or a message saying what is wrong (a 400). */
export function parseAuditQuery(query: Record<string, unknown>): { filter: AuditFilter; form: AuditForm } | { error: string } {
  const form: AuditForm = { actor: '', action: '', lan_id: '', from: '', to: '' };
  for (const k of Object.keys(form) as (keyof AuditForm)[]) {
    const v = query[k];
    if (v === undefined || v === '') continue;
    if (typeof v !== 'string' || v.length > 128) return { error: `${k} must be one text of at most 128 characters.` };
    form[k] = v;
  }
  const opt = (v: string) => (v === '' ? undefined : v);
  const from = form.from === '' ? undefined : parseTime(form.from, false);
  if (form.from !== '' && !from) return { error: 'from must be a date (YYYY-MM-DD) or an ISO 8601 time with its zone (2026-12-07T09:00:00Z).' };
  const to = form.to === '' ? undefined : parseTime(form.to, true);
  if (form.to !== '' && !to) return { error: 'to must be a date (YYYY-MM-DD) or an ISO 8601 time with its zone (2026-12-07T17:00:00Z).' };
  if (from && to && from >= to) return { error: 'from must be before to.' };
  const rawBefore = query.before;
  let before: AuditFilter['before'];
  if (rawBefore !== undefined && rawBefore !== '') {
    const c = typeof rawBefore === 'string' ? decodeCursor(rawBefore) : undefined;
    if (!c) return { error: 'before must be a cursor from the log\'s "Older" link.' };
    before = { at: c.captureTime, id: c.id };
  }
  return {
    filter: { actor: opt(form.actor), action: opt(form.action), lanId: opt(form.lan_id), from, to, before, limit: AUDIT_PAGE_SIZE },
    form,
  };
}

/** A state as `key: value` lines: a scalar as it is, anything nested as compact JSON. */
function facts(state: unknown): { key: string; value: string }[] {
  if (state === null || state === undefined) return [];
  if (typeof state !== 'object' || Array.isArray(state)) return [{ key: '', value: JSON.stringify(state) }];
  return Object.entries(state as Record<string, unknown>).map(([key, v]) => ({
    key, value: typeof v === 'string' ? v : v === null || v === undefined ? '—' : typeof v === 'object' ? JSON.stringify(v) : String(v),
  }));
}

const rowView = (r: AuditRow) => ({
  id: r.id, at: r.at.toISOString(), actor: r.actor, action: r.action, lanId: r.lanId ?? '', subject: r.subject ?? '',
  before: facts(r.before), after: facts(r.after),
});

/**
 * `GET /audit`: every sign-in, decision and change `audit_log` holds, newest first, read
 * only (no route here changes anything). Team leads and up: it shows who signed in from where.
 */
export function auditRoutes(app: FastifyInstance, deps: { db: Kysely<Database> }): void {
  consoleRoute(app, {
    method: 'GET', url: '/audit', role: 'teamlead',
    handler: async (request, reply) => {
      const q = parseAuditQuery(request.query as Record<string, unknown>);
      if ('error' in q) return plain(reply, 400, `Bad request: ${q.error}\n`);
      const rows = await listAudit(deps.db, { ...q.filter, limit: AUDIT_PAGE_SIZE + 1 });
      const page = rows.slice(0, AUDIT_PAGE_SIZE);
      const params = new URLSearchParams(Object.entries(q.form).filter(([, v]) => v !== ''));
      const last = page[page.length - 1];
      if (rows.length > AUDIT_PAGE_SIZE && last) params.set('before', encodeCursor({ captureTime: last.at, id: last.id }));
      return renderPage(reply, 'audit', { form: q.form, rows: page.map(rowView), older: rows.length > AUDIT_PAGE_SIZE ? params.toString() : '' });
    },
  });
}

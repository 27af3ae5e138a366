import type { Kysely } from 'kysely';
import { capturedBefore } from '../capture-order.ts';
import type { Database } from '../schema.ts';

/** One decision or change, as the audit log keeps it: who, what, about whom, before and after. */
export interface AuditEntry {
  actor: string;
  /** Dotted, e.g. `gallery.approve`, `users.disable`. */
  action: string;
  lanId?: string | null;
  /** What the action was about, e.g. `proposal:12`, `train_img:40`. */
  subject?: string | null;
  before?: unknown;
  after?: unknown;
}

/**
 * Appends to the audit log. Called with the transaction that makes the change, so the
 * entry and the change commit together or not at all. Rows are never updated.
 */
export async function writeAudit(db: Kysely<Database>, entries: AuditEntry | readonly AuditEntry[]): Promise<void> {
  const list = Array.isArray(entries) ? entries : [entries as AuditEntry];
  if (list.length === 0) return;
  // One statement for many (a bulk dismiss of 100 items).
  await db
    .insertInto('audit_log')
    .values(list.map((e) => ({
      actor: e.actor,
      action: e.action,
      lan_id: e.lanId ?? null,
      subject: e.subject ?? null,
      before_state: e.before === undefined ? null : JSON.stringify(e.before),
      after_state: e.after === undefined ? null : JSON.stringify(e.after),
    })))
    .execute();
}

export interface AuditRow {
  id: number;
  at: Date;
  actor: string;
  action: string;
  lanId: string | null;
  subject: string | null;
  before: unknown;
  after: unknown;
}

export interface AuditFilter {
  actor?: string;
  action?: string;
  lanId?: string;
  /** Entries written at or after this… */
  from?: Date;
  /** …and before this. */
  to?: Date;
  /** Keyset paging: the entries after this one in the log's order (the last row of the page before). */
  before?: AuditCursor;
  limit: number;
}

/** Where a page of the log ends: its last row's time and id. */
export interface AuditCursor {
  at: Date;
  id: number;
}

/**
 * The audit log, newest first by (at, id), filtered and paged by keyset. Each filter has an
 * index in that order (`audit_log_at`, and `(actor|lan_id|action, at)`, migration
 * 20261210T0950-audit-index), so a page walks one index from its cursor and stops at its
 * limit, whatever the log's size.
 */
export async function listAudit(db: Kysely<Database>, f: AuditFilter): Promise<AuditRow[]> {
  const rows = await auditQuery(db, f).execute();
  const parse = (t: string | null): unknown => (t === null ? null : JSON.parse(t));
  return rows.map((r) => ({ id: Number(r.id), at: r.at, actor: r.actor, action: r.action, lanId: r.lan_id, subject: r.subject, before: parse(r.before_state), after: parse(r.after_state) }));
}

/** listAudit's query, for its EXPLAIN in the tests. */
export function auditQuery(db: Kysely<Database>, f: AuditFilter) {
  let q = db.selectFrom('audit_log').selectAll();
  if (f.actor !== undefined) q = q.where('actor', '=', f.actor);
  if (f.action !== undefined) q = q.where('action', '=', f.action);
  if (f.lanId !== undefined) q = q.where('lan_id', '=', f.lanId);
  if (f.from !== undefined) q = q.where('at', '>=', f.from);
  if (f.to !== undefined) q = q.where('at', '<', f.to);
  if (f.before !== undefined) q = q.where(capturedBefore(f.before.at, f.before.id, AUDIT_ORDER));
  return q.orderBy('at', 'desc').orderBy('id', 'desc').limit(f.limit);
}

/** The same row comparison as the snapshots' capture order, on the log's time. */
const AUDIT_ORDER = { captureTime: 'at', id: 'id' };

import type { Kysely } from 'kysely';
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
export async function writeAudit(db: Kysely<Database>, e: AuditEntry): Promise<void> {
  await db
    .insertInto('audit_log')
    .values({
      actor: e.actor,
      action: e.action,
      lan_id: e.lanId ?? null,
      subject: e.subject ?? null,
      before_state: e.before === undefined ? null : JSON.stringify(e.before),
      after_state: e.after === undefined ? null : JSON.stringify(e.after),
    })
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
  /** Keyset paging: entries older than this id. */
  beforeId?: number;
  limit: number;
}

/** The audit log, newest first, filtered and paged by id. */
export async function listAudit(db: Kysely<Database>, f: AuditFilter): Promise<AuditRow[]> {
  let q = db.selectFrom('audit_log').selectAll();
  if (f.actor !== undefined) q = q.where('actor', '=', f.actor);
  if (f.action !== undefined) q = q.where('action', '=', f.action);
  if (f.lanId !== undefined) q = q.where('lan_id', '=', f.lanId);
  if (f.beforeId !== undefined) q = q.where('id', '<', f.beforeId);
  const rows = await q.orderBy('id', 'desc').limit(f.limit).execute();
  const parse = (t: string | null): unknown => (t === null ? null : JSON.parse(t));
  return rows.map((r) => ({ id: Number(r.id), at: r.at, actor: r.actor, action: r.action, lanId: r.lan_id, subject: r.subject, before: parse(r.before_state), after: parse(r.after_state) }));
}

import { sql, type Kysely } from 'kysely';
import { indexExists } from '../migration-ddl.ts';

/**
 * The console's audit log page (issue 28) lists `audit_log` newest first by (at, id),
 * filtered by actor, action or lan_id and by a time span. The gallery migration indexed
 * those three as `(column, id)`, in id order: a filter with a span, or any page in time
 * order, sorted every matching row. `(column, at)` (InnoDB appends the id) serves the
 * equality, the span and the order from one index, so a page reads only its rows; the
 * `(column, id)` ones served nothing else and go. Built in place: writes go on.
 */
const REPLACED: [string, string, string][] = [
  ['audit_log_actor', 'audit_log_actor_at', 'actor'],
  ['audit_log_lan', 'audit_log_lan_at', 'lan_id'],
  ['audit_log_action', 'audit_log_action_at', 'action'],
];

export async function up(db: Kysely<any>): Promise<void> {
  for (const [old, name, column] of REPLACED) {
    if (!(await indexExists(db, 'audit_log', name))) {
      await sql`ALTER TABLE audit_log ADD INDEX ${sql.id(name)} (${sql.id(column)}, at), ALGORITHM=INPLACE, LOCK=NONE`.execute(db);
    }
    if (await indexExists(db, 'audit_log', old)) await sql`ALTER TABLE audit_log DROP INDEX ${sql.id(old)}`.execute(db);
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const [old, name, column] of REPLACED) {
    if (!(await indexExists(db, 'audit_log', old))) {
      await sql`ALTER TABLE audit_log ADD INDEX ${sql.id(old)} (${sql.id(column)}, id), ALGORITHM=INPLACE, LOCK=NONE`.execute(db);
    }
    if (await indexExists(db, 'audit_log', name)) await sql`ALTER TABLE audit_log DROP INDEX ${sql.id(name)}`.execute(db);
  }
}

import type { Kysely } from 'kysely';
import type { Role } from '../../shared/contract/roles.ts';
import type { Database } from '../schema.ts';

/** A console session with its account, as a request needs it. */
export interface ConsoleSession {
  /** sha256 (hex) of the cookie's token: the row's key, never the token itself. */
  id: string;
  userId: number;
  name: string;
  role: Role;
  disabled: boolean;
  createdAt: Date;
  lastSeenAt: Date;
  csrfToken: string;
}

/** The console's sessions, kept in the database so that every replica shares them. */
export interface ConsoleSessionRepository {
  create(s: { id: string; userId: number; csrfToken: string; at: Date }): Promise<void>;
  find(id: string): Promise<ConsoleSession | undefined>;
  touch(id: string, at: Date): Promise<void>;
  /** True when there was such a session. */
  remove(id: string): Promise<boolean>;
  /** Deletes the sessions past either timeout at `now` (ones never seen again); answers how many. */
  purgeExpired(now: Date, idleMs: number, maxMs: number): Promise<number>;
}

export function consoleSessionRepository(db: Kysely<Database>): ConsoleSessionRepository {
  return {
    async create(s) {
      await db.insertInto('console_session').values({ id: s.id, user_id: s.userId, csrf_token: s.csrfToken, created_at: s.at, last_seen_at: s.at }).execute();
    },
    async find(id) {
      const r = await db
        .selectFrom('console_session as s')
        .innerJoin('console_user as u', 'u.id', 's.user_id')
        .select(['s.id', 's.user_id', 's.created_at', 's.last_seen_at', 's.csrf_token', 'u.name', 'u.role', 'u.disabled_at'])
        .where('s.id', '=', id)
        .executeTakeFirst();
      return (
        r && {
          id: r.id, userId: Number(r.user_id), name: r.name, role: r.role, disabled: r.disabled_at !== null,
          createdAt: r.created_at, lastSeenAt: r.last_seen_at, csrfToken: r.csrf_token,
        }
      );
    },
    async touch(id, at) {
      await db.updateTable('console_session').set({ last_seen_at: at }).where('id', '=', id).execute();
    },
    async remove(id) {
      const r = await db.deleteFrom('console_session').where('id', '=', id).executeTakeFirst();
      return Number(r.numDeletedRows) > 0;
    },
    async purgeExpired(now, idleMs, maxMs) {
      const r = await db
        .deleteFrom('console_session')
        .where((eb) => eb.or([eb('last_seen_at', '<=', new Date(now.getTime() - idleMs)), eb('created_at', '<=', new Date(now.getTime() - maxMs))]))
        .executeTakeFirst();
      return Number(r.numDeletedRows);
    },
  };
}

import type { Kysely } from 'kysely';
import type { Role } from '../../shared/contract/roles.ts';
import type { Database } from '../schema.ts';
import { writeAudit } from './audit.repository.ts';

export interface ConsoleUser {
  id: number;
  name: string;
  role: Role;
  passwordHash: string;
  disabled: boolean;
}

/** The console's accounts (`vigil users`); every change is audited in its transaction. */
export interface ConsoleUserRepository {
  findByName(name: string): Promise<ConsoleUser | undefined>;
  /** False when the name is taken. */
  add(u: { name: string; role: Role; passwordHash: string; by: string }): Promise<boolean>;
  /** Disables the account and ends its sessions; false when there is no such account. */
  disable(name: string, by: string): Promise<{ found: boolean; sessionsEnded: number }>;
}

export function consoleUserRepository(db: Kysely<Database>): ConsoleUserRepository {
  return {
    async findByName(name) {
      const r = await db.selectFrom('console_user').select(['id', 'name', 'role', 'password_hash', 'disabled_at']).where('name', '=', name).executeTakeFirst();
      return r && { id: Number(r.id), name: r.name, role: r.role, passwordHash: r.password_hash, disabled: r.disabled_at !== null };
    },
    async add(u) {
      return db.transaction().execute(async (trx) => {
        const taken = await trx.selectFrom('console_user').select('id').where('name', '=', u.name).forUpdate().executeTakeFirst();
        if (taken) return false;
        await trx.insertInto('console_user').values({ name: u.name, role: u.role, password_hash: u.passwordHash }).execute();
        await writeAudit(trx, { actor: u.by, action: 'users.add', subject: `user:${u.name}`, after: { name: u.name, role: u.role } });
        return true;
      });
    },
    async disable(name, by) {
      return db.transaction().execute(async (trx) => {
        const u = await trx.selectFrom('console_user').select(['id', 'disabled_at']).where('name', '=', name).forUpdate().executeTakeFirst();
        if (!u) return { found: false, sessionsEnded: 0 };
        if (u.disabled_at === null) await trx.updateTable('console_user').set({ disabled_at: new Date() }).where('id', '=', u.id).execute();
        const ended = await trx.deleteFrom('console_session').where('user_id', '=', u.id).executeTakeFirst();
        const sessionsEnded = Number(ended.numDeletedRows);
        await writeAudit(trx, { actor: by, action: 'users.disable', subject: `user:${name}`, before: { disabled: u.disabled_at !== null }, after: { disabled: true, sessionsEnded } });
        return { found: true, sessionsEnded };
      });
    },
  };
}

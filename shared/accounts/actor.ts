import type { ConsoleUserRepository } from '../../db/repositories/console-user.repository.ts';
import { roleAllows, type Role } from '../contract/roles.ts';
import { PermanentError } from '../errors.ts';

/**
 * The account a decision is made by (`--by` on the command line, the session in the
 * console): it must exist, be enabled and hold the role the decision needs. Every gallery,
 * threshold and identity decision goes through here, so the command line and the console
 * apply the same rule.
 */
export async function requireActor(users: Pick<ConsoleUserRepository, 'findByName'>, name: string, needed: Role): Promise<{ name: string; role: Role }> {
  const u = await users.findByName(name);
  if (!u) throw new PermanentError('ACTOR_UNKNOWN', `refused: no console account is named ${JSON.stringify(name)} (add it with vigil users add) (ACTOR_UNKNOWN)`);
  if (u.disabled) throw new PermanentError('ACTOR_DISABLED', `refused: the account ${JSON.stringify(name)} is disabled (ACTOR_DISABLED)`);
  if (!roleAllows(u.role, needed)) throw new PermanentError('ROLE_REQUIRED', `refused: ${JSON.stringify(name)} is a ${u.role}; this needs a ${needed} or above (ROLE_REQUIRED)`);
  return { name: u.name, role: u.role };
}

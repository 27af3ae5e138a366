import type { ConsoleUserRepository } from '../db/repositories/console-user.repository.ts';
import type { DeletedEmployee, OperationsRepository } from '../db/repositories/operations.repository.ts';
import { requireActor } from './accounts/actor.ts';
import { employeeLockKey, hasControlCharacters } from './employee-lock-key.ts';
import { PermanentError } from './errors.ts';
import type { LockManager } from './lock.ts';

/**
 * `delete-user`'s work, written once for `vigil delete-user` and the console's employee
 * page: the name checked, the employee's lock taken, every row of the identity deleted in
 * one transaction, and each refusal worded the same way for both.
 */
export interface EmployeeDeletionDeps {
  repo: Pick<OperationsRepository, 'deleteEmployee' | 'lanIdWeight'>;
  locks: Pick<LockManager, 'withLock'>;
  /** Needed with `by`: the acting account is checked like every console decision. */
  users?: Pick<ConsoleUserRepository, 'findByName'>;
}

export interface EmployeeDeleted {
  lanId: string;
  removed: DeletedEmployee;
  /** The spellings of the lan_id the deleted rows carried. */
  spellings: string[];
}

/**
 * Deletes one identity's rows (operationsRepository.deleteEmployee) under its lock. `by` is
 * the console account that asked (an admin; audited as `employee.delete` in the deletion's
 * transaction); the command line has none.
 *
 * @throws PermanentError LAN_ID_INVALID (empty, control characters), LAN_ID_UNKNOWN (no row
 *   matches), LAN_ID_AMBIGUOUS (spellings that differ by more than letter case), and
 *   requireActor's ACTOR_UNKNOWN / ACTOR_DISABLED / ROLE_REQUIRED; nothing is deleted then
 */
export async function deleteEmployee(deps: EmployeeDeletionDeps, p: { lanId: string; exact?: boolean; by?: string }): Promise<EmployeeDeleted> {
  const { lanId } = p;
  if (lanId === '' || hasControlCharacters(lanId)) {
    throw new PermanentError('LAN_ID_INVALID', `refused: the lan_id ${shownLanId(lanId)} is empty or holds control characters; nothing deleted (LAN_ID_INVALID)`);
  }
  let auditBy: string | undefined;
  if (p.by !== undefined) {
    if (!deps.users) throw new Error('deleteEmployee: an actor (`by`) needs `users` to be checked against');
    auditBy = (await requireActor(deps.users, p.by, 'admin')).name;
  }
  // Under the employee's lock, so no facetraining or facestreaming job writes a trace
  // for an image this transaction removes. The lock is the one of the identity the server
  // sees in the name (with `exact` too: the face services lock identities).
  const weight = await deps.repo.lanIdWeight(lanId);
  const done = await deps.locks.withLock(employeeLockKey(weight), () => deps.repo.deleteEmployee(lanId, { exact: p.exact, auditBy }));
  if (done.outcome === 'unknown') {
    throw new PermanentError('LAN_ID_UNKNOWN', `refused: no row of any table has the lan_id ${shownLanId(lanId)}${p.exact ? ' spelled exactly so' : ''}; nothing deleted (LAN_ID_UNKNOWN)`);
  }
  if (done.outcome === 'ambiguous') {
    throw new PermanentError(
      'LAN_ID_AMBIGUOUS',
      `refused: the rows matching ${shownLanId(lanId)} are spelled ${done.spellings.length} ways that differ by more than letter case: ` +
        `${done.spellings.map(shownLanId).join(', ')}; nothing deleted. Choose the spelling to delete with vigil delete-user --exact (LAN_ID_AMBIGUOUS)`,
    );
  }
  return { lanId, removed: done.removed, spellings: done.spellings };
}

/** A spelling as a person can tell it apart: quoted, with everything but printable ASCII escaped (NFC `é` is \u00e9, NFD `é` is e\u0301). */
export function shownLanId(s: string): string {
  return JSON.stringify(s).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

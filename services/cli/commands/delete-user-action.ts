import { operationsRepository } from '../../../db/repositories/operations.repository.ts';
import { employeeLockKey, hasControlCharacters } from '../../../shared/employee-lock-key.ts';
import { PermanentError } from '../../../shared/errors.ts';
import type { CliContext } from '../context.ts';

export async function run(ctx: CliContext, lanId: string, opts: { exact?: boolean; json?: boolean }): Promise<void> {
  if (lanId === '' || hasControlCharacters(lanId)) {
    throw new PermanentError('LAN_ID_INVALID', `refused: the lan_id ${shown(lanId)} is empty or holds control characters; nothing deleted (LAN_ID_INVALID)`);
  }
  // Under the employee's lock, so no facetraining or facestreaming job writes a trace
  // for an image this transaction removes.
  const done = await ctx.withDatabase(async (db, locks) => {
    const repo = operationsRepository(db);
    // The lock of the identity the server sees in the name (with --exact too: the face services lock identities).
    const weight = await repo.lanIdWeight(lanId);
    return locks.withLock(employeeLockKey(weight), () => repo.deleteEmployee(lanId, { exact: opts.exact }));
  });
  if (done.outcome === 'unknown') {
    throw new PermanentError('LAN_ID_UNKNOWN', `refused: no row of any table has the lan_id ${shown(lanId)}${opts.exact ? ' spelled exactly so' : ''}; nothing deleted (LAN_ID_UNKNOWN)`);
  }
  if (done.outcome === 'ambiguous') {
    throw new PermanentError(
      'LAN_ID_AMBIGUOUS',
      `refused: the rows matching ${shown(lanId)} are spelled ${done.spellings.length} ways that differ by more than letter case: ` +
        `${done.spellings.map(shown).join(', ')}; nothing deleted. Run again with --exact and the spelling to delete (LAN_ID_AMBIGUOUS)`,
    );
  }
  const { removed, spellings } = done;
  ctx.print(!!opts.json, { lanId, removed, spellings }, () =>
    [`removed for ${shown(lanId)}:`, ...Object.entries(removed).map(([k, v]) => `  ${k.padEnd(14)} ${v}`), `  spellings      ${spellings.map(shown).join(', ')}`, ''].join('\n'),
  );
}

/** A spelling as an operator can tell it apart: quoted, with everything but printable ASCII escaped (NFC `é` is \u00e9, NFD `é` is e\u0301). */
function shown(s: string): string {
  return JSON.stringify(s).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

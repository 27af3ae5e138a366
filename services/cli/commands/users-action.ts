import { consoleUserRepository } from '../../../db/repositories/console-user.repository.ts';
import { checkAccountName } from '../../../shared/accounts/account-name.ts';
import { checkNewPassword, generatePassword, hashPassword, MAX_PASSWORD_LENGTH } from '../../../shared/accounts/password.ts';
import type { Role } from '../../../shared/contract/roles.ts';
import { errorCode, PermanentError } from '../../../shared/errors.ts';
import type { CliContext } from '../context.ts';
import { printable } from '../printable.ts';

// Neither the password nor its hash is ever logged or put in an error: a generated password
// is printed once, on stdout, and nowhere else.

export async function addUser(ctx: CliContext, name: string, opts: { role: Role; passwordStdin?: boolean; by: string; json?: boolean }): Promise<void> {
  checkAccountName(name);
  checkAccountName(opts.by);
  let password: string;
  let generated = false;
  if (opts.passwordStdin) {
    password = await readPasswordFromStdin();
    checkNewPassword(password);
  } else {
    password = generatePassword();
    generated = true;
  }
  const passwordHash = await hashPassword(password);
  const added = await ctx
    .withDatabase((db) => consoleUserRepository(db).add({ name, role: opts.role, passwordHash, by: opts.by }))
    // Two adds of one name at once: the unique index refuses the second.
    .catch((err: unknown) => (errorCode(err) === 'ER_DUP_ENTRY' ? false : Promise.reject(err)));
  if (!added) {
    throw new PermanentError('ACCOUNT_EXISTS', `refused: an account named ${JSON.stringify(name)} exists already (names compare regardless of letter case and accents); nothing changed (ACCOUNT_EXISTS)`);
  }
  const doc = generated ? { name, role: opts.role, password } : { name, role: opts.role };
  ctx.print(!!opts.json, doc, () =>
    generated
      ? `added ${JSON.stringify(name)} as ${opts.role}\npassword (shown this once, stored only as a hash): ${password}\n`
      : `added ${JSON.stringify(name)} as ${opts.role}, with the password from stdin\n`,
  );
}

export async function disableUser(ctx: CliContext, name: string, opts: { by: string; json?: boolean }): Promise<void> {
  checkAccountName(opts.by);
  const done = await ctx.withDatabase((db) => consoleUserRepository(db).disable(name, opts.by));
  // The name is not checked here (an account made before the rules still gets disabled): shown terminal-safe.
  if (!done.found) throw new PermanentError('ACCOUNT_UNKNOWN', `refused: no console account is named ${printable(JSON.stringify(name))}; nothing changed (ACCOUNT_UNKNOWN)`);
  ctx.print(!!opts.json, { name, disabled: true, sessionsEnded: done.sessionsEnded }, () => `disabled ${printable(JSON.stringify(name))}; ${done.sessionsEnded} session(s) ended\n`);
}

/**
 * All of stdin less one trailing newline (what `echo` or a here-string adds). Bounded: a
 * password longer than MAX_PASSWORD_LENGTH is refused without reading on.
 */
async function readPasswordFromStdin(): Promise<string> {
  const limit = MAX_PASSWORD_LENGTH * 4 + 2;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new PermanentError('PASSWORD_TOO_LONG', `refused: the password on stdin has more than ${MAX_PASSWORD_LENGTH} characters (PASSWORD_TOO_LONG)`);
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  return text.replace(/\r?\n$/, '');
}

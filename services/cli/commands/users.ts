import { InvalidArgumentError, type Command } from 'commander';
import { ROLES, isRole, type Role } from '../../../shared/contract/roles.ts';
import type { CliContext } from '../context.ts';
import { lazyAction } from './lazy.ts';

/** `vigil users …`: the console's accounts (CONTRACT.md, "Command line" and "Console"). */
export function registerUsers(program: Command, ctx: CliContext): void {
  const users = program.command('users').description("the console's accounts");
  users
    .command('add')
    .description('add a console account; the password is read from stdin (--password-stdin) or generated and printed once')
    .argument('<name>', 'the account name: 1 to 64 characters, no control characters, no white space at the ends')
    .requiredOption('--role <role>', `one of ${ROLES.join(', ')}`, role)
    .option('--password-stdin', `read the password from standard input (all of it, less one trailing newline; 12 characters or more)`)
    .option('--by <name>', 'who is adding it, for the audit log', 'cli')
    .option('--json', 'print one JSON document')
    .action(lazyAction(ctx, async () => ({ run: (await import('./users-action.ts')).addUser })));
  users
    .command('disable')
    .description('the account can no longer sign in; its sessions end')
    .argument('<name>', 'the account name')
    .option('--by <name>', 'who is disabling it, for the audit log', 'cli')
    .option('--json', 'print one JSON document')
    .action(lazyAction(ctx, async () => ({ run: (await import('./users-action.ts')).disableUser })));
}

function role(v: string): Role {
  if (!isRole(v)) throw new InvalidArgumentError(`expected one of ${ROLES.join(', ')}`);
  return v;
}

import type { Command } from 'commander';
import type { CliContext } from '../context.ts';
import { lazyAction } from './lazy.ts';

export function registerDeleteUser(program: Command, ctx: CliContext): void {
  program
    .command('delete-user')
    .description("delete one employee's images, descriptors, landmark traces, alerts and attempts, and scrub their notifications, in one transaction")
    .argument('<lan_id>', 'the employee, e.g. NA\\\\ada (letter case does not matter; accents and spaces do)')
    .option('--exact', 'delete only the rows spelled byte for byte like <lan_id> (when the name is ambiguous)')
    .option('--json', 'print one JSON document')
    .action(lazyAction(ctx, () => import('./delete-user-action.ts')));
}

import type { Command } from 'commander';
import type { CliContext } from '../context.ts';
import { lazyAction } from './lazy.ts';

export function registerMigrate(program: Command, ctx: CliContext): void {
  program
    .command('migrate')
    .description('create or upgrade the schema (creates the database when missing; safe to run again)')
    .option('--json', 'print one JSON document')
    .action(lazyAction(ctx, () => import('./migrate-action.ts')));
}

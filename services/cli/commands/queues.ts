import type { Command } from 'commander';
import type { CliContext } from '../context.ts';
import { lazyAction } from './lazy.ts';

export function registerQueues(program: Command, ctx: CliContext): void {
  program
    .command('queues')
    .description('depth, consumers and dead letters per queue')
    .option('--json', 'print one JSON document')
    .action(lazyAction(ctx, () => import('./queues-action.ts')));
}

import type { Command } from 'commander';
import { QUEUE_NAMES } from '../../../shared/contract/queue-names.ts';
import type { CliContext } from '../context.ts';
import { lazyAction } from './lazy.ts';

export function registerPublish(program: Command, ctx: CliContext): void {
  program
    .command('publish')
    .description('publish ids or a JSON body to a queue (checked against the queue\'s message format first)')
    .argument('<queue>', QUEUE_NAMES.join(' | '))
    .argument('<body...>', 'ids such as 42, or one JSON body per argument')
    .option('--json', 'print one JSON document')
    .action(lazyAction(ctx, () => import('./publish-action.ts')));
}

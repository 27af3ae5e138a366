import type { Command } from 'commander';
import { availableServices } from '../../registry.ts';
import type { CliContext } from '../context.ts';
import { lazyAction } from './lazy.ts';

/** A start that cannot succeed as things are (sysexits' EX_UNAVAILABLE would say "try later"). */
export const EXIT_STARTUP = 1;

export function registerRun(program: Command, ctx: CliContext): void {
  program
    .command('run')
    .description(`run services in this process until SIGTERM (${availableServices(ctx.registry).join(', ')}, or all)`)
    .argument('<service...>', 'service names, or "all"')
    .action(lazyAction(ctx, () => import('./run-action.ts')));
}

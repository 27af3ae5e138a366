import type { Command } from 'commander';
import type { CliContext } from '../context.ts';
import { lazyAction } from './lazy.ts';

export function registerVerify(program: Command, ctx: CliContext): void {
  program
    .command('verify')
    .description('compare a probe photo with an enrolment photo (face engine only, no broker or database)')
    .argument('<enrolment-image>', 'the enrolment photo')
    .argument('<probe-image>', 'the photo to check')
    .option('--json', 'print {"result","distance","accuracy","faces"}')
    .action(lazyAction(ctx, () => import('./verify-action.ts')));
}

import { InvalidArgumentError, type Command } from 'commander';
import type { CliContext } from '../context.ts';
import { lazyAction } from './lazy.ts';

/** `vigil gallery accept-duplicate <train_img id> --by <user>`: a team lead's "these are different people". */
export function registerGalleryAcceptDuplicate(gallery: Command, ctx: CliContext): void {
  gallery
    .command('accept-duplicate')
    .description('accept a DUPLICATE_IDENTITY enrolment as a different person (team lead); it is checked again')
    .argument('<train_img_id>', 'the refused enrolment', parseId)
    .requiredOption('--by <user>', 'the console account deciding (a teamlead or admin)')
    .option('--reason <text>', 'why they are different people (kept with the decision)')
    .option('--json', 'print one JSON document')
    .action(lazyAction(ctx, async () => ({ run: (await import('./gallery-accept-duplicate-action.ts')).run })));
}

function parseId(v: string): number {
  if (!/^[1-9]\d{0,15}$/.test(v)) throw new InvalidArgumentError('expected a train_img id (a positive integer)');
  return Number(v);
}

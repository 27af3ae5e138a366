import { InvalidArgumentError, type Command } from 'commander';
import { parseDuration } from '../../../shared/config/env-reader.ts';
import type { CliContext } from '../context.ts';
import { lazyAction } from './lazy.ts';

export function registerRescue(program: Command, ctx: CliContext): void {
  program
    .command('rescue')
    .description(
      'republish train_img/stream_img rows stuck in N or P (lost messages, crashed workers), video jobs a dead process left unfinished, and alerts never published; ' +
        "unlike the scheduled rescue, this one does not wait for a row's back-off (the republish still counts in it)",
    )
    .option('--older-than <duration>', 'only rows idle longer than this, e.g. 15m (default VIGIL_RESCUE_AGE)', parseAge)
    .option('--dry-run', 'list what would be republished, publish nothing')
    .option('--json', 'print one JSON document')
    .action(lazyAction(ctx, () => import('./rescue-action.ts')));
}

function parseAge(v: string): number {
  const ms = parseDuration(v);
  if (ms === undefined) throw new InvalidArgumentError('expected a duration such as 90s, 15m or 2h');
  return ms;
}

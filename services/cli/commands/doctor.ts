import type { Command } from 'commander';
import type { CliContext } from '../context.ts';
import { lazyAction } from './lazy.ts';

export function registerDoctor(program: Command, ctx: CliContext): void {
  program
    .command('doctor')
    .description('check this host for the named services (all by default): configuration, database, broker, storage, ffmpeg, face engine, SMTP')
    .argument('[service...]', 'service names, or "all"')
    .option('--json', 'print one JSON document')
    .action(lazyAction(ctx, () => import('./doctor-action.ts')));
}

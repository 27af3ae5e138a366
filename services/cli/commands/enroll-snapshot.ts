import { InvalidArgumentError, type Command } from 'commander';
import type { CliContext } from '../context.ts';
import { lazyAction } from './lazy.ts';

export function registerEnrollAndSnapshot(program: Command, ctx: CliContext): void {
  program
    .command('enroll')
    .description('insert a train_img row for an employee and publish it to facetraining')
    .argument('<lan_id>', 'the employee, e.g. NA\\\\ada')
    .argument('<image>', 'path of the enrolment photo (JPEG, PNG, WebP or TIFF)')
    .option('--json', 'print one JSON document')
    .action(lazyAction(ctx, async () => ({ run: (await import('./enroll-snapshot-action.ts')).runEnroll })));
  program
    .command('snapshot')
    .description('insert a stream_img row (a webcam snapshot) for an employee and publish it to facestreaming')
    .argument('<lan_id>', 'the employee, e.g. NA\\\\ada')
    .argument('<image>', 'path of the snapshot (JPEG, PNG, WebP or TIFF)')
    .option('--capture-time <iso>', 'when it was taken (ISO 8601); snapshots are judged in this order', parseTime)
    .option('--json', 'print one JSON document')
    .action(lazyAction(ctx, async () => ({ run: (await import('./enroll-snapshot-action.ts')).runSnapshot })));
}

function parseTime(v: string): Date {
  const d = new Date(v);
  if (!/^\d{4}-\d{2}-\d{2}/.test(v) || Number.isNaN(d.getTime())) throw new InvalidArgumentError('expected an ISO 8601 time such as 2026-11-21T08:30:00Z');
  return d;
}

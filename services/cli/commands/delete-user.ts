import type { Command } from 'commander';
import { operationsRepository } from '../../../db/repositories/operations.repository.ts';
import type { CliContext } from '../context.ts';

export function registerDeleteUser(program: Command, ctx: CliContext): void {
  program
    .command('delete-user')
    .description("delete an employee's images, descriptors, landmark traces, alerts and attempts in one transaction")
    .argument('<lan_id>', 'the employee, e.g. NA\\\\ada')
    .option('--json', 'print one JSON document')
    .action(async (lanId: string, opts: { json?: boolean }) => {
      // Under the employee's lock, so no facetraining or facestreaming job writes a trace
      // for an image this transaction removes.
      const removed = await ctx.withDatabase((db, locks) => locks.withLock(`employee:${lanId}`, () => operationsRepository(db).deleteEmployee(lanId)));
      ctx.print(!!opts.json, { lanId, removed }, () =>
        [`removed for ${lanId}:`, ...Object.entries(removed).map(([k, v]) => `  ${k.padEnd(14)} ${v}`), ''].join('\n'),
      );
    });
}

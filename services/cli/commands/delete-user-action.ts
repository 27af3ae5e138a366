import { operationsRepository } from '../../../db/repositories/operations.repository.ts';
import { deleteEmployee, shownLanId } from '../../../shared/employee-deletion.ts';
import type { CliContext } from '../context.ts';

export async function run(ctx: CliContext, lanId: string, opts: { exact?: boolean; json?: boolean }): Promise<void> {
  // The same checks, lock and deletion as the console's employee page (shared/employee-deletion.ts).
  const { removed, spellings } = await ctx.withDatabase((db, locks) => deleteEmployee({ repo: operationsRepository(db), locks }, { lanId, exact: opts.exact }));
  ctx.print(!!opts.json, { lanId, removed, spellings }, () =>
    [`removed for ${shownLanId(lanId)}:`, ...Object.entries(removed).map(([k, v]) => `  ${k.padEnd(14)} ${v}`), `  spellings      ${spellings.map(shownLanId).join(', ')}`, ''].join('\n'),
  );
}

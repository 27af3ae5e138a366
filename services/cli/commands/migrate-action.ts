import { ensureDatabaseExists, openDatabase, parseDatabaseUrl } from '../../../db/connection.ts';
import { migrateToLatest } from '../../../db/migrate.ts';
import type { CliContext } from '../context.ts';

export async function run(ctx: CliContext, opts: { json?: boolean }): Promise<void> {
  const { url } = ctx.config().database;
  const createdDatabase = await ensureDatabaseExists(url);
  const handle = openDatabase(url, { poolSize: 2 });
  try {
    const report = await migrateToLatest(handle.db);
    const database = parseDatabaseUrl(url).database;
    ctx.print(!!opts.json, { database, createdDatabase, applied: report.applied }, () =>
      report.applied.length === 0
        ? `database ${database} is up to date\n`
        : `database ${database}: applied ${report.applied.join(', ')}\n`,
    );
  } finally {
    await handle.close();
  }
}

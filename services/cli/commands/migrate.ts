import type { Command } from 'commander';
import { ensureDatabaseExists, openDatabase, parseDatabaseUrl } from '../../../db/connection.ts';
import { migrateToLatest } from '../../../db/migrate.ts';
import type { CliContext } from '../context.ts';

export function registerMigrate(program: Command, ctx: CliContext): void {
  program
    .command('migrate')
    .description('create or upgrade the schema (creates the database when missing; safe to run again)')
    .option('--json', 'print one JSON document')
    .action(async (opts: { json?: boolean }) => {
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
    });
}

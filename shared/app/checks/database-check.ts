import { sql } from 'kysely';
import { openDatabase, parseDatabaseUrl } from '../../../db/connection.ts';
import { migrationState } from '../../../db/migrate.ts';
import { errorMessage } from '../../errors.ts';
import { fail, ok, warn, type CheckResult, type HostCheck } from './check.ts';
import { isUnreachable } from './unreachable.ts';

const ER_BAD_DB_ERROR = 1049;
const ER_ACCESS_DENIED_ERROR = 1045;

/**
 * The database: reachable, a supported server, and migrated to exactly this code's
 * migrations. A database a migration behind would fail every job with ER_NO_SUCH_TABLE or
 * a missing column; one a newer version migrated may hold rows this code misreads.
 */
export function databaseCheck(url: string): HostCheck {
  return {
    name: 'database',
    async run() {
      const target = parseDatabaseUrl(url);
      const where = `${target.host}:${target.port}/${target.database}`;
      const handle = openDatabase(url, { poolSize: 1 });
      try {
        let version: string;
        try {
          version = (await sql<{ v: string }>`SELECT VERSION() AS v`.execute(handle.db)).rows[0]!.v;
        } catch (err) {
          return [connectFailure(err, where, target.database)];
        }
        const results: CheckResult[] = [serverVersion(version, where)];
        const state = await migrationState(handle.db);
        if (state.unknown.length > 0) {
          results.push(
            fail(
              'database schema',
              `database ${target.database} has migrations this version does not know: ${state.unknown.join(', ')}`,
              'a newer Vigil migrated it: run that version here, or point DATABASE_URL at this version\'s database',
            ),
          );
        } else if (state.missing.length > 0) {
          const what = state.applied.length === 0 ? 'was never migrated' : `lacks migration ${state.missing.join(', ')}`;
          results.push(fail('database schema', `database ${target.database} ${what}`, 'run `vigil migrate`'));
        } else {
          results.push(ok('database schema', `${state.applied.length} migrations applied, the newest ${state.applied.at(-1)}`));
        }
        return results;
      } finally {
        await handle.close();
      }
    },
  };
}

function connectFailure(err: unknown, where: string, database: string): CheckResult {
  const errno = (err as { errno?: number }).errno;
  if (errno === ER_BAD_DB_ERROR) return fail('database', `database ${database} does not exist on ${where.split('/')[0]}`, 'run `vigil migrate` (it creates the database)');
  if (errno === ER_ACCESS_DENIED_ERROR) return fail('database', `access denied at ${where}`, "check DATABASE_URL's user and password");
  if (isUnreachable(err)) return fail('database', `cannot reach ${where}: ${errorMessage(err) || (err as { code?: string }).code}`, 'start MariaDB/MySQL or fix DATABASE_URL', true);
  return fail('database', `${where}: ${errorMessage(err)}`, 'check DATABASE_URL and the server log');
}

/** MySQL 8 and MariaDB 10.11 are what Vigil is tested on; older ones lack what the schema uses. */
function serverVersion(version: string, where: string): CheckResult {
  const m = /^(\d+)\.(\d+)/.exec(version);
  const [major, minor] = m ? [Number(m[1]), Number(m[2])] : [0, 0];
  const mariadb = /mariadb/i.test(version);
  const name = mariadb ? 'MariaDB' : 'MySQL';
  const detail = `${name} ${version.split('-')[0]} at ${where}`;
  const supported = mariadb ? major > 10 || (major === 10 && minor >= 11) : major >= 8;
  return supported ? ok('database', detail) : warn('database', `${detail} is older than Vigil supports`, mariadb ? 'upgrade to MariaDB 10.11 or later' : 'upgrade to MySQL 8 or later');
}

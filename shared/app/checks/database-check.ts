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

/**
 * What the schema needs of the server: MariaDB 10.10 for the lan_id identity collation
 * (utf8mb4_uca1400_nopad_as_ci), MySQL 8.0.13 for expression defaults (UTC_TIMESTAMP).
 * Older ones fail: `vigil migrate` would stop half-way, or the services misjudge identities.
 * Vigil is tested on MariaDB 10.11 and MySQL 8.
 */
const MINIMUM = {
  MariaDB: { version: [10, 10, 0], needs: 'the lan_id collation utf8mb4_uca1400_nopad_as_ci', fix: 'upgrade to MariaDB 10.11 or later (10.10 at least)' },
  MySQL: { version: [8, 0, 13], needs: 'expression defaults (UTC_TIMESTAMP)', fix: 'upgrade to MySQL 8.0.13 or later' },
} as const;

/** The server's check from its VERSION(); pure, so the rule is tested without such a server. */
export function serverVersion(version: string, where: string): CheckResult {
  // A MariaDB behind some proxies answers with the old replication prefix: 5.5.5-10.11.6-MariaDB.
  const v = version.replace(/^5\.5\.5-(?=\d+\.\d+\.\d+-mariadb)/i, '');
  const m = /^(\d+)\.(\d+)(?:\.(\d+))?/.exec(v);
  const name = /mariadb/i.test(v) ? 'MariaDB' : 'MySQL';
  if (!m) return warn('database', `cannot tell the server's version from ${JSON.stringify(version.slice(0, 60))} at ${where}`, `Vigil needs MariaDB ${MINIMUM.MariaDB.version.join('.')} or MySQL ${MINIMUM.MySQL.version.join('.')} or later: check the server`);
  const got = [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)];
  const detail = `${name} ${v.split('-')[0]} at ${where}`;
  const min = MINIMUM[name];
  if (compareVersions(got, min.version) >= 0) return ok('database', detail);
  return fail('database', `${detail} is older than Vigil supports: it needs ${name} ${min.version.join('.')} or later for ${min.needs}`, min.fix);
}

function compareVersions(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

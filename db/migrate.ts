import { sql, type Kysely } from 'kysely';
import { DEFAULT_MIGRATION_TABLE, Migrator, type Migration, type MigrationResult } from 'kysely/migration';
import type { Database } from './schema.ts';
import { RESULT_CODES } from '../shared/contract/result-codes.ts';
import * as m20261121T0900 from './migrations/20261121T0900-initial-schema.ts';
import * as m20261121T1000 from './migrations/20261121T1000-face-descriptor.ts';
import * as m20261121T1100 from './migrations/20261121T1100-snapshot-evidence.ts';
import * as m20261121T1200 from './migrations/20261121T1200-video-job.ts';
import * as m20261201T0900 from './migrations/20261201T0900-video-job-deaths.ts';
import * as m20261201T1000 from './migrations/20261201T1000-upload.ts';
import * as m20261201T1100 from './migrations/20261201T1100-import-job.ts';
import * as m20261201T1200 from './migrations/20261201T1200-notification.ts';
import * as m20261201T1210 from './migrations/20261201T1210-scheduled-job.ts';
import * as m20261201T1300 from './migrations/20261201T1300-metabase-views.ts';
import * as m20261207T0900 from './migrations/20261207T0900-lan-id-identity.ts';
import * as m20261207T0910 from './migrations/20261207T0910-utc-defaults.ts';
import * as m20261207T1000 from './migrations/20261207T1000-notification-key-namespace.ts';
import * as m20261207T1200 from './migrations/20261207T1200-import-job-runner.ts';
import * as m20261207T1300 from './migrations/20261207T1300-rescue-attempt.ts';
import * as m20261208T0900 from './migrations/20261208T0900-report-rollups.ts';
import * as m20261208T1000 from './migrations/20261208T1000-report-indexes.ts';
import * as m20261208T1100 from './migrations/20261208T1100-bigint-image-ids.ts';
import * as m20261208T1200 from './migrations/20261208T1200-report-people.ts';
import * as m20261208T1300 from './migrations/20261208T1300-verdict-index.ts';
import * as m20261208T1400 from './migrations/20261208T1400-latest-state-newest.ts';
import * as m20261209T0900 from './migrations/20261209T0900-gallery.ts';
import * as m20261209T0930 from './migrations/20261209T0930-stream-img-capture.ts';
import * as m20261209T1000 from './migrations/20261209T1000-console-signin-failure.ts';
import * as m20261210T0900 from './migrations/20261210T0900-review-decision.ts';
import * as m20261210T0950 from './migrations/20261210T0950-audit-index.ts';

/**
 * Append-only: a new migration gets a new timestamped file and a new line here; an old
 * one is never edited. Listed statically (not read from a folder) so the same code runs
 * from the sources, a bundle, or a container without the source tree's layout.
 */
const MIGRATIONS: Record<string, Migration> = {
  '20261121T0900-initial-schema': m20261121T0900,
  '20261121T1000-face-descriptor': m20261121T1000,
  '20261121T1100-snapshot-evidence': m20261121T1100,
  '20261121T1200-video-job': m20261121T1200,
  '20261201T0900-video-job-deaths': m20261201T0900,
  '20261201T1000-upload': m20261201T1000,
  '20261201T1100-import-job': m20261201T1100,
  '20261201T1200-notification': m20261201T1200,
  '20261201T1210-scheduled-job': m20261201T1210,
  '20261201T1300-metabase-views': m20261201T1300,
  '20261207T0900-lan-id-identity': m20261207T0900,
  '20261207T0910-utc-defaults': m20261207T0910,
  '20261207T1000-notification-key-namespace': m20261207T1000,
  '20261207T1200-import-job-runner': m20261207T1200,
  '20261207T1300-rescue-attempt': m20261207T1300,
  '20261208T0900-report-rollups': m20261208T0900,
  '20261208T1000-report-indexes': m20261208T1000,
  '20261208T1100-bigint-image-ids': m20261208T1100,
  '20261208T1200-report-people': m20261208T1200,
  '20261208T1300-verdict-index': m20261208T1300,
  '20261208T1400-latest-state-newest': m20261208T1400,
  '20261209T0900-gallery': m20261209T0900,
  '20261209T0930-stream-img-capture': m20261209T0930,
  '20261209T1000-console-signin-failure': m20261209T1000,
  '20261210T0900-review-decision': m20261210T0900,
  '20261210T0950-audit-index': m20261210T0950,
};

export interface MigrateReport {
  applied: string[];
  /** Names already applied before this run. */
  current: string[];
}

/** Brings the schema to the newest version and syncs `result_code`. Safe to run twice or concurrently. */
export async function migrateToLatest(db: Kysely<Database>): Promise<MigrateReport> {
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => MIGRATIONS },
  });
  const before = (await migrator.getMigrations()).filter((m) => m.executedAt !== undefined).map((m) => m.name);
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r: MigrationResult) => r.status === 'Error');
    throw new Error(`migration ${failed?.migrationName ?? '(unknown)'} failed: ${String((error as Error).message ?? error)}`, { cause: error });
  }
  await syncResultCodes(db);
  return { applied: (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName), current: before };
}

/** The code's migrations against the database's: what `vigil run` and `vigil doctor` compare. */
export interface MigrationState {
  /** Applied in the database, in order. */
  applied: string[];
  /** This code's migrations the database lacks. */
  missing: string[];
  /** Applied in the database but unknown to this code (a newer version ran there). */
  unknown: string[];
}

export function migrationNames(): string[] {
  return Object.keys(MIGRATIONS).sort();
}

/** Reads the applied migrations; a database never migrated has none. */
export async function migrationState(db: Kysely<any>): Promise<MigrationState> {
  let applied: string[];
  try {
    const rows = await sql<{ name: string }>`SELECT name FROM ${sql.table(DEFAULT_MIGRATION_TABLE)} ORDER BY name`.execute(db);
    applied = rows.rows.map((r) => r.name);
  } catch (err) {
    // ER_NO_SUCH_TABLE: nothing was ever migrated here.
    if ((err as { errno?: number }).errno !== 1146) throw err;
    applied = [];
  }
  const known = migrationNames();
  return {
    applied,
    missing: known.filter((n) => !applied.includes(n)),
    unknown: applied.filter((n) => !known.includes(n)),
  };
}

async function syncResultCodes(db: Kysely<Database>): Promise<void> {
  // One statement per code: VALUES() in ON DUPLICATE KEY UPDATE is deprecated on MySQL 8
  // and the row alias that replaces it does not exist on MariaDB.
  for (const r of RESULT_CODES) {
    const row = { description: r.description, is_success: r.isSuccess ? 1 : 0 };
    await db.insertInto('result_code').values({ code: r.code, ...row }).onDuplicateKeyUpdate(row).execute();
  }
}

// What the scale bench times: every report view as Metabase asks it (the first 50 rows,
// and one employee's rows), and the queries the services, the upkeep and `vigil rescue`
// run on the big tables. Each entry runs against the database as the code of the tree
// being measured writes it, so the same file measures the tree before and after issue 27.
import { sql, type Kysely } from 'kysely';
import { facestreamingRepository } from '../../db/repositories/facestreaming.repository.ts';
import { operationsRepository } from '../../db/repositories/operations.repository.ts';
import { upkeepRepository } from '../../db/repositories/upkeep.repository.ts';
import type { Database } from '../../db/schema.ts';
import type { StreamResult } from '../../shared/contract/result-codes.ts';
import { rescueOrphans } from '../../shared/runtime/orphan-rescue.ts';
import { lanIdOf } from './scale-fill.ts';

export interface TimedQuery {
  name: string;
  kind: 'report' | 'hot';
  run(db: Kysely<Database>): Promise<unknown>;
}

const VIEWS = [
  'report_results_per_hour',
  'report_non_success_results',
  'report_latest_state',
  'report_enrolment_failures',
  'report_face_alerts',
  'report_video_jobs',
];
/** The views with a `lan_id` column, filtered as Metabase does when a question picks one person. */
const PER_EMPLOYEE = ['report_results_per_hour', 'report_non_success_results', 'report_latest_state', 'report_enrolment_failures', 'report_face_alerts'];
/** The views that may grow a daily twin; timed where they exist. */
const OPTIONAL_VIEWS = ['report_results_per_day'];
const ABSENCE_RESULTS: StreamResult[] = ['SUCCESS', 'SUCCESS_MULTIPLE_FACES', 'NO_FACES_FOUND', 'UNKNOWN_PERSON', 'UNKNOWN_MULTIPLE_FACES'];

export async function timedQueries(db: Kysely<Database>): Promise<TimedQuery[]> {
  const present = new Set(
    (await sql<{ n: string }>`SELECT TABLE_NAME AS n FROM information_schema.VIEWS WHERE TABLE_SCHEMA = DATABASE()`.execute(db)).rows.map((r) => r.n),
  );
  const who = lanIdOf(4242);
  const views = [...VIEWS, ...OPTIONAL_VIEWS.filter((v) => present.has(v))];
  const perEmployee = [...PER_EMPLOYEE, ...OPTIONAL_VIEWS.filter((v) => present.has(v))];
  const queries: TimedQuery[] = [];
  for (const v of views) queries.push({ name: `${v} limit 50`, kind: 'report', run: (d) => sql`SELECT * FROM ${sql.table(v)} LIMIT 50`.execute(d) });
  for (const v of perEmployee) {
    queries.push({ name: `${v} one lan_id`, kind: 'report', run: (d) => sql`SELECT * FROM ${sql.table(v)} WHERE lan_id = ${who} LIMIT 2000`.execute(d) });
  }
  const now = () => new Date();
  queries.push(
    { name: 'upkeep: work_pending counts (last hour)', kind: 'hot', run: (d) => upkeepRepository(d).workPendingCounts(new Date(Date.now() - 3_600_000)) },
    // Nothing left to clear: the batch's cost is finding that out.
    { name: 'upkeep: retention batch (500, 30 days)', kind: 'hot', run: (d) => upkeepRepository(d).removeOldStreamImages(new Date(Date.now() - 30 * 86_400_000), 500) },
    {
      name: 'vigil rescue --dry-run (its queries)',
      kind: 'hot',
      run: (d) =>
        rescueOrphans(
          { db: d, locks: { isFree: async () => true } as never, publisher: undefined, log: { warn: () => undefined, error: () => undefined } },
          { cutoff: new Date(Date.now() - 600_000), now: now(), baseDelayMs: 300_000, force: true },
        ),
    },
    { name: 'facestreaming: galleryFor', kind: 'hot', run: (d) => facestreamingRepository(d).galleryFor(who, 10) },
    {
      name: 'facestreaming: verdictsBefore (absence streak)',
      kind: 'hot',
      run: (d) => facestreamingRepository(d).verdictsBefore({ id: 2 ** 31 - 2, lanId: who, captureTime: now(), status: 'N' }, ABSENCE_RESULTS, 3),
    },
    {
      name: 'facestreaming: pendingBefore (catch-up)',
      kind: 'hot',
      run: (d) => facestreamingRepository(d).pendingBefore({ id: 2 ** 31 - 2, lanId: who, captureTime: now(), status: 'N' }, 10),
    },
    { name: 'delete-user: lan_id weight', kind: 'hot', run: (d) => operationsRepository(d).lanIdWeight(who) },
  );
  return queries;
}

/**
 * One snapshot's verdict as facestreaming records it, the database's share only (the face
 * engine's time does not depend on the table): a new row, then the handler's reads, the
 * attempt and the verdict's transaction, in the handler's order.
 */
export async function verdictOnce(db: Kysely<Database>, n: number): Promise<number> {
  const repo = facestreamingRepository(db);
  const lanId = lanIdOf((n % 10_000) + 1);
  const ins = await db.insertInto('stream_img').values({ lan_id: lanId, capture_time: new Date(), status: 'N' }).executeTakeFirstOrThrow();
  const id = Number(ins.insertId);
  const t0 = performance.now();
  const s = (await repo.findSnapshot(id))!;
  await repo.pendingBefore(s, 10);
  await repo.galleryFor(lanId, 10);
  const attemptId = await repo.startAttempt({ id, worker: 'bench' });
  await repo.imageOf(id);
  await repo.matchedTracesBefore(s, 4);
  await repo.verdictsBefore(s, ABSENCE_RESULTS, 3);
  await repo.recordVerdict({
    id, lanId, captureTime: s.captureTime, attemptId, result: 'SUCCESS', numFaces: 1, distance: 0.3, accuracy: 0.9, trainImgId: (n % 10_000) + 1, detail: {}, alerts: [],
  });
  return performance.now() - t0;
}

import type { Kysely } from 'kysely';
import { rollupRepository } from '../../db/repositories/rollup.repository.ts';
import type { Database } from '../../db/schema.ts';

/** Ids counted per transaction: a catch-up of millions of rows never holds a long one. */
const BATCH = 50_000;

export interface RollupRun {
  /** Snapshot rows counted for the first time. */
  counted: number;
  /** Rows counted while unjudged whose verdict (or deletion) was carried over. */
  closed: number;
}

/**
 * One run of the `report_rollup` job: counts the rows the previous run saw (or, `upTo`,
 * everything up to that id: a bench or a test with nothing in flight), then carries over
 * verdicts of rows counted while unjudged, then remembers the newest id for the next run.
 * Counting only what an earlier run saw leaves a row whose insert had taken its id but not
 * yet committed an interval to commit, instead of stepping over it for good.
 */
export async function runRollup(db: Kysely<Database>, opts: { upTo?: number; signal?: AbortSignal } = {}): Promise<RollupRun> {
  const repo = rollupRepository(db);
  let counted = 0;
  for (let n = BATCH; n === BATCH && !opts.signal?.aborted; counted += n) n = await repo.countNext(BATCH, opts.upTo);
  const closed = await repo.closeJudged();
  await repo.notePeople();
  await repo.noteSeen();
  return { counted, closed };
}

/** Counts every row there is now: the bench's and the tests' catch-up, with no insert in flight. */
export async function catchUpRollups(db: Kysely<Database>): Promise<RollupRun> {
  const r = await db.selectFrom('stream_img').select((eb) => eb.fn.max('id').as('m')).executeTakeFirst();
  return runRollup(db, { upTo: Number(r?.m ?? 0) });
}

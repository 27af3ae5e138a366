import type { Kysely, Transaction } from 'kysely';
import type { ResultCode } from '../../shared/contract/result-codes.ts';
import type { Database, ImageType, RowStatus } from '../schema.ts';

const TABLES = { train: 'train_img', stream: 'stream_img' } as const satisfies Record<ImageType, keyof Database>;

/**
 * The attempt bookkeeping facetraining and facestreaming share: every attempt on an image
 * row has a `process_status` row, opened with the row set to `P`.
 * `attempt` defaults to the attempts recorded so far + 1.
 */
export async function startImageAttempt(db: Kysely<Database>, type: ImageType, a: { id: number; attempt?: number; worker: string }): Promise<number> {
  return db.transaction().execute(async (trx) => {
    await trx.updateTable(TABLES[type]).set({ status: 'P' }).where('id', '=', a.id).execute();
    let attempt = a.attempt;
    if (attempt === undefined) {
      const c = await trx
        .selectFrom('process_status')
        .select(({ fn }) => fn.countAll<number>().as('n'))
        .where('image_type', '=', type)
        .where('image_id', '=', a.id)
        .executeTakeFirstOrThrow();
      attempt = Number(c.n) + 1;
    }
    const r = await trx
      .insertInto('process_status')
      .values({ image_type: type, image_id: a.id, status: 'P', attempt, worker: a.worker, started_at: new Date() })
      .executeTakeFirstOrThrow();
    return Number(r.insertId);
  });
}

/** A transient failure: the row goes back to `N` (it will be retried) and the attempt says why. */
export async function releaseImageAttempt(db: Kysely<Database>, type: ImageType, a: { id: number; attemptId: number; detail: unknown }): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await trx.updateTable(TABLES[type]).set({ status: 'N' }).where('id', '=', a.id).where('status', '=', 'P').execute();
    await trx
      .updateTable('process_status')
      .set({ status: 'N', detail: JSON.stringify(a.detail), finished_at: new Date() })
      .where('id', '=', a.attemptId)
      .execute();
  });
}

/** Closes an attempt with its outcome, inside the transaction that records the result. */
export async function finishImageAttempt(
  trx: Transaction<Database>,
  a: { attemptId: number; status: RowStatus; result: ResultCode; detail: unknown; at: Date },
): Promise<void> {
  await trx
    .updateTable('process_status')
    .set({ status: a.status, result: a.result, detail: JSON.stringify(a.detail), finished_at: a.at })
    .where('id', '=', a.attemptId)
    .execute();
}

/**
 * The detail (JSON text) of the newest finished attempt of each image of `ids`, by id; with
 * `result`, of the newest attempt that ended so. An image without one is not in the map.
 */
export async function newestAttemptDetails(db: Kysely<Database>, type: ImageType, ids: readonly number[], opts: { result?: ResultCode } = {}): Promise<Map<number, string | null>> {
  const out = new Map<number, string | null>();
  if (ids.length === 0) return out;
  let q = db
    .selectFrom('process_status')
    .select(['image_id', 'detail'])
    .where('image_type', '=', type)
    .where('image_id', 'in', ids)
    .where('finished_at', 'is not', null);
  if (opts.result !== undefined) q = q.where('result', '=', opts.result);
  // Newest first: the first row of each image is its newest (an image has a handful of attempts).
  for (const r of await q.orderBy('id', 'desc').execute()) if (!out.has(Number(r.image_id))) out.set(Number(r.image_id), r.detail);
  return out;
}

import type { Kysely } from 'kysely';
import { finishImageAttempt, releaseImageAttempt, startImageAttempt } from './image-attempt.ts';
import type { Database, RowStatus } from '../schema.ts';
import type { TrainResult } from '../../shared/contract/result-codes.ts';
import { encodeDescriptor } from '../descriptor.ts';
import { lanIdColumnWeight } from '../lan-id-weight.ts';

/** The facetraining job's queries. */
export interface FacetrainingRepository {
  /** With `lanIdWeight`, the server's weight of the lan_id (db/lan-id-weight.ts): what the employee lock is named after. */
  findTrainImage(id: number): Promise<{ id: number; lanId: string; lanIdWeight: string; status: RowStatus; image: Buffer | null } | undefined>;
  statusOf(id: number): Promise<RowStatus | undefined>;
  /** Marks the row `P` and opens this attempt's `process_status` row; returns its id. */
  startAttempt(a: { id: number; attempt: number; worker: string }): Promise<number>;
  /** Writes the result, the attempt's outcome and (on SUCCESS) the descriptor, in one transaction. */
  recordResult(r: {
    id: number;
    lanId: string;
    attemptId: number;
    result: TrainResult;
    numFaces: number | null;
    detail: unknown;
    descriptor?: { values: ArrayLike<number>; model: string; box: unknown; score: number; quality: unknown };
  }): Promise<void>;
  /** A transient failure: the row goes back to `N` (it will be retried) and the attempt says why. */
  releaseAttempt(a: { id: number; attemptId: number; detail: unknown }): Promise<void>;
}

export function facetrainingRepository(db: Kysely<Database>): FacetrainingRepository {
  return {
    async findTrainImage(id) {
      const row = await db
        .selectFrom('train_img')
        .select(['id', 'lan_id', lanIdColumnWeight().as('lan_id_weight'), 'status', 'image'])
        .where('id', '=', id)
        .executeTakeFirst();
      return row && { id: row.id, lanId: row.lan_id, lanIdWeight: row.lan_id_weight, status: row.status, image: row.image };
    },
    async statusOf(id) {
      const row = await db.selectFrom('train_img').select('status').where('id', '=', id).executeTakeFirst();
      return row?.status;
    },
    startAttempt: (a) => startImageAttempt(db, 'train', a),
    async recordResult(r) {
      const status: RowStatus = r.result === 'SUCCESS' ? 'Y' : 'F';
      const now = new Date();
      await db.transaction().execute(async (trx) => {
        if (r.descriptor) {
          await trx
            .insertInto('face_descriptor')
            .values({
              train_img_id: r.id,
              lan_id: r.lanId,
              model: r.descriptor.model,
              descriptor: encodeDescriptor(r.descriptor.values),
              box: JSON.stringify(r.descriptor.box),
              score: r.descriptor.score,
              quality: JSON.stringify(r.descriptor.quality),
            })
            .execute();
        }
        await trx
          .updateTable('train_img')
          .set({ status, result: r.result, processed_time: now, num_faces: r.numFaces })
          .where('id', '=', r.id)
          .execute();
        await finishImageAttempt(trx, { attemptId: r.attemptId, status, result: r.result, detail: r.detail, at: now });
      });
    },
    releaseAttempt: (a) => releaseImageAttempt(db, 'train', a),
  };
}

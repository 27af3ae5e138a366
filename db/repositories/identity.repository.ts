import { sql, type Expression, type ExpressionBuilder, type Kysely } from 'kysely';
import type { Database, RowStatus } from '../schema.ts';
import { writeAudit } from './audit.repository.ts';
import { newestAttemptDetails } from './image-attempt.ts';
import { parseJsonColumn } from '../json-column.ts';

/**
 * Whether a team lead said two employees are different people (identity_distinct), in
 * either direction. The one place this condition is written: the duplicate check's
 * confirmation (gallery-faces.repository.ts) asks it of a column, the acceptance of two
 * names. Compared in SQL, under the lan_id columns' collation (the identity rule).
 */
export function distinctPairExists(eb: ExpressionBuilder<Database, any>, a: Expression<string>, b: Expression<string>) {
  return eb.exists(
    eb
      .selectFrom('identity_distinct as d')
      .select('d.id')
      .where((w) => w.or([w.and([w('d.lan_id', '=', a), w('d.other_lan_id', '=', b)]), w.and([w('d.lan_id', '=', b), w('d.other_lan_id', '=', a)])])),
  );
}

/** A train_img row the duplicate check refused, as the acceptance reads it. */
export interface DuplicateEnrolment {
  id: number;
  lanId: string;
  status: RowStatus;
  result: string | null;
  /** The detail of its newest DUPLICATE_IDENTITY attempt, parsed; null without one. */
  detail: unknown;
}

export interface AcceptedDuplicate {
  /** False when the row was no longer DUPLICATE_IDENTITY (someone else decided first): nothing was written. */
  reset: boolean;
  /** False when the pair was already recorded (another enrolment of the pair accepted before). */
  recorded: boolean;
}

/** The queries of identity decisions (issue 26): who is a different person from whom. */
export interface IdentityRepository {
  findDuplicate(trainImgId: number): Promise<DuplicateEnrolment | undefined>;
  /**
   * In one transaction: the row back to `N` (result, processed_time and num_faces cleared)
   * only if it is still a DUPLICATE_IDENTITY, the pair recorded unless it already is, and
   * the audit entry.
   */
  acceptDuplicate(a: {
    trainImgId: number;
    lanId: string;
    otherLanId: string;
    by: string;
    reason: string | null;
    duplicateOf: unknown;
  }): Promise<AcceptedDuplicate>;
}

export function identityRepository(db: Kysely<Database>): IdentityRepository {
  return {
    async findDuplicate(trainImgId) {
      const row = await db.selectFrom('train_img').select(['id', 'lan_id', 'status', 'result']).where('id', '=', trainImgId).executeTakeFirst();
      if (!row) return undefined;
      const detail = (await newestAttemptDetails(db, 'train', [trainImgId], { result: 'DUPLICATE_IDENTITY' })).get(trainImgId) ?? null;
      return { id: Number(row.id), lanId: row.lan_id, status: row.status, result: row.result, detail: parseJsonColumn(detail) };
    },
    async acceptDuplicate(a) {
      return db.transaction().execute(async (trx) => {
        const reset = await trx
          .updateTable('train_img')
          .set({ status: 'N', result: null, processed_time: null, num_faces: null })
          .where('id', '=', a.trainImgId)
          .where('status', '=', 'F')
          .where('result', '=', 'DUPLICATE_IDENTITY')
          .executeTakeFirst();
        if (Number(reset.numUpdatedRows) === 0) return { reset: false, recorded: false };
        const known = await trx.selectNoFrom((eb) => distinctPairExists(eb, sql.val(a.lanId), sql.val(a.otherLanId)).as('known')).executeTakeFirstOrThrow();
        const recorded = !Number(known.known);
        if (recorded) {
          await trx
            .insertInto('identity_distinct')
            .values({ lan_id: a.lanId, other_lan_id: a.otherLanId, train_img_id: a.trainImgId, accepted_by: a.by, reason: a.reason })
            .execute();
        }
        await writeAudit(trx, {
          actor: a.by,
          action: 'gallery.accept-duplicate',
          lanId: a.lanId,
          subject: `train_img:${a.trainImgId}`,
          before: { status: 'F', result: 'DUPLICATE_IDENTITY', duplicateOf: a.duplicateOf },
          after: { status: 'N', distinctFrom: a.otherLanId, recorded, reason: a.reason },
        });
        return { reset: true, recorded };
      });
    },
  };
}

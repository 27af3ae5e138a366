import type { Kysely } from 'kysely';
import type { ResultCode } from '../../shared/contract/result-codes.ts';
import type { Database, ReviewDecisionValue, ReviewKind } from '../schema.ts';
import { writeAudit } from './audit.repository.ts';
import { REVIEW_RESULTS } from './review.repository.ts';

export const REVIEW_KINDS = ['snapshot', 'absence', 'enrolment'] as const satisfies readonly ReviewKind[];
/** The enrolments the queue holds: refused by the quality gate or the duplicate check. */
export const REFUSED_ENROLMENT_RESULTS = ['NO_FACES_FOUND', 'MULTIPLE_FACES', 'LOW_QUALITY', 'DUPLICATE_IDENTITY'] as const satisfies readonly ResultCode[];
export type RefusedEnrolmentResult = (typeof REFUSED_ENROLMENT_RESULTS)[number];

export interface ReviewDecision {
  kind: ReviewKind;
  itemId: number;
  lanId: string;
  decision: ReviewDecisionValue;
  decidedBy: string;
  decidedAt: Date;
  reason: string | null;
}

export type DecideOutcome =
  | { outcome: 'decided'; items: { itemId: number; lanId: string }[] }
  /** No such item in the queue (not that kind, or not a result the queue holds): nothing written. */
  | { outcome: 'unknown'; itemId: number }
  /** Someone decided it before: nothing written. */
  | { outcome: 'conflict'; existing: ReviewDecision };

/** The review queue's decisions; every one writes its audit entry in the same transaction. */
export interface ReviewDecisionRepository {
  decisionOf(kind: ReviewKind, itemId: number): Promise<ReviewDecision | undefined>;
  /** Decides every item or none, in one transaction. */
  decide(p: { kind: ReviewKind; itemIds: readonly number[]; decision: ReviewDecisionValue; by: string; reason: string | null }): Promise<DecideOutcome>;
}

/** How the audit log names an item of each kind (as the gallery's entries name a snapshot `stream_img:<id>`). */
export const AUDIT_SUBJECT: Record<ReviewKind, string> = { snapshot: 'stream_img', absence: 'face_alert', enrolment: 'train_img' };

const ER_DUP_ENTRY = 1062;

const toDecision = (r: { kind: ReviewKind; item_id: number; lan_id: string; decision: ReviewDecisionValue; decided_by: string; decided_at: Date; reason: string | null }): ReviewDecision => ({
  kind: r.kind, itemId: Number(r.item_id), lanId: r.lan_id, decision: r.decision, decidedBy: r.decided_by, decidedAt: r.decided_at, reason: r.reason,
});

export function reviewDecisionRepository(db: Kysely<Database>): ReviewDecisionRepository {
  const decisionOf = async (kind: ReviewKind, itemId: number) => {
    const r = await db.selectFrom('review_decision').selectAll().where('kind', '=', kind).where('item_id', '=', itemId).executeTakeFirst();
    return r && toDecision(r);
  };
  return {
    decisionOf,
    async decide(p) {
      const ids = [...new Set(p.itemIds)];
      try {
        return await db.transaction().execute(async (trx): Promise<DecideOutcome> => {
          const found = await itemsOf(trx, p.kind, ids);
          const lanIds = new Map(found.map((r) => [Number(r.id), r.lan_id]));
          const missing = ids.find((id) => !lanIds.has(id));
          if (missing !== undefined) return { outcome: 'unknown', itemId: missing };
          const before = await trx.selectFrom('review_decision').selectAll().where('kind', '=', p.kind).where('item_id', 'in', ids).orderBy('item_id').limit(1).executeTakeFirst();
          if (before) return { outcome: 'conflict', existing: toDecision(before) };
          const items = ids.map((id) => ({ itemId: id, lanId: lanIds.get(id)! }));
          await trx.insertInto('review_decision')
            .values(items.map((i) => ({ kind: p.kind, item_id: i.itemId, lan_id: i.lanId, decision: p.decision, decided_by: p.by, reason: p.reason })))
            .execute();
          for (const i of items) {
            await writeAudit(trx, {
              actor: p.by, action: `review.${p.decision}`, lanId: i.lanId, subject: `${AUDIT_SUBJECT[p.kind]}:${i.itemId}`,
              before: { decision: null }, after: { decision: p.decision, reason: p.reason, ...(items.length > 1 && { bulk: items.length }) },
            });
          }
          return { outcome: 'decided', items };
        });
      } catch (err) {
        // Two supervisors at once: the primary key let one in; the other is told who.
        if ((err as { errno?: number }).errno !== ER_DUP_ENTRY) throw err;
        const existing = (await db.selectFrom('review_decision').selectAll().where('kind', '=', p.kind).where('item_id', 'in', ids).orderBy('item_id').limit(1).executeTakeFirst());
        if (!existing) throw err;
        return { outcome: 'conflict', existing: toDecision(existing) };
      }
    },
  };
}

/** The items of the queue among `ids` (the results and kinds the queue holds), with their lan_id. */
function itemsOf(db: Kysely<Database>, kind: ReviewKind, ids: number[]) {
  if (kind === 'snapshot') return db.selectFrom('stream_img').select(['id', 'lan_id']).where('id', 'in', ids).where('result', 'in', [...REVIEW_RESULTS]).execute();
  if (kind === 'absence') return db.selectFrom('face_alert').select(['id', 'lan_id']).where('id', 'in', ids).where('kind', '=', 'absence').execute();
  return db.selectFrom('train_img').select(['id', 'lan_id']).where('id', 'in', ids).where('result', 'in', [...REFUSED_ENROLMENT_RESULTS]).execute();
}

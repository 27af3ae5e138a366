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
  | { outcome: 'conflict'; existing: ReviewDecision }
  /** A supervisor already acted on the snapshot from its page (proposed a face, or said not this employee): nothing written. */
  | { outcome: 'acted'; itemId: number; act: 'proposed' | 'not-this'; by: string; at: Date };

/** The review queue's decisions; every one writes its audit entry in the same transaction. */
export interface ReviewDecisionRepository {
  decisionOf(kind: ReviewKind, itemId: number): Promise<ReviewDecision | undefined>;
  /** Decides every item or none, in one transaction. */
  decide(p: { kind: ReviewKind; itemIds: readonly number[]; decision: ReviewDecisionValue; by: string; reason: string | null }): Promise<DecideOutcome>;
}

/** How the audit log names an item of each kind (as the gallery's entries name a snapshot `stream_img:<id>`). */
export const AUDIT_SUBJECT: Record<ReviewKind, string> = { snapshot: 'stream_img', absence: 'face_alert', enrolment: 'train_img' };

const ER_DUP_ENTRY = 1062;
const ER_LOCK_DEADLOCK = 1213;

const toDecision = (r: { kind: ReviewKind; item_id: number; lan_id: string; decision: ReviewDecisionValue; decided_by: string; decided_at: Date; reason: string | null }): ReviewDecision => ({
  kind: r.kind, itemId: Number(r.item_id), lanId: r.lan_id, decision: r.decision, decidedBy: r.decided_by, decidedAt: r.decided_at, reason: r.reason,
});

export function reviewDecisionRepository(db: Kysely<Database>): ReviewDecisionRepository {
  const decisionOf = async (kind: ReviewKind, itemId: number) => {
    const r = await firstDecision(db, kind, [itemId]);
    return r && toDecision(r);
  };
  return {
    decisionOf,
    async decide(p) {
      // In id order: two bulk decisions over the same items take their row locks in one order.
      const ids = [...new Set(p.itemIds)].sort((a, b) => a - b);
      try {
        return await db.transaction().execute(async (trx): Promise<DecideOutcome> => {
          const found = await itemsOf(trx, p.kind, ids);
          const lanIds = new Map(found.map((r) => [Number(r.id), r.lan_id]));
          const missing = ids.find((id) => !lanIds.has(id));
          if (missing !== undefined) return { outcome: 'unknown', itemId: missing };
          const before = await firstDecision(trx, p.kind, ids);
          if (before) return { outcome: 'conflict', existing: toDecision(before) };
          if (p.kind === 'snapshot') {
            const acted = await firstAct(trx, ids);
            if (acted) return { outcome: 'acted', ...acted };
          }
          const items = ids.map((id) => ({ itemId: id, lanId: lanIds.get(id)! }));
          await trx.insertInto('review_decision')
            .values(items.map((i) => ({ kind: p.kind, item_id: i.itemId, lan_id: i.lanId, decision: p.decision, decided_by: p.by, reason: p.reason })))
            .execute();
          await writeAudit(trx, items.map((i) => ({
            actor: p.by, action: `review.${p.decision}`, lanId: i.lanId, subject: `${AUDIT_SUBJECT[p.kind]}:${i.itemId}`,
            before: { decision: null }, after: { decision: p.decision, reason: p.reason, ...(items.length > 1 && { bulk: items.length }) },
          })));
          return { outcome: 'decided', items };
        });
      } catch (err) {
        // Two supervisors at once: the primary key let one in (or the server chose a deadlock's
        // victim); the other is told who.
        const errno = (err as { errno?: number }).errno;
        if (errno !== ER_DUP_ENTRY && errno !== ER_LOCK_DEADLOCK) throw err;
        const existing = await firstDecision(db, p.kind, ids);
        if (!existing) throw err;
        return { outcome: 'conflict', existing: toDecision(existing) };
      }
    },
  };
}

/** The decision of the lowest id among `ids`, if any was decided. */
function firstDecision(db: Kysely<Database>, kind: ReviewKind, ids: readonly number[]) {
  return db.selectFrom('review_decision').selectAll().where('kind', '=', kind).where('item_id', 'in', ids).orderBy('item_id').limit(1).executeTakeFirst();
}

/** A proposal of a face, or a not-this face, of one of the snapshots `ids`: the supervisor acted on it already. */
async function firstAct(db: Kysely<Database>, ids: readonly number[]) {
  const proposed = await db.selectFrom('gallery_proposal').select(['stream_img_id', 'proposed_by', 'proposed_at']).where('stream_img_id', 'in', ids).orderBy('stream_img_id').limit(1).executeTakeFirst();
  if (proposed) return { itemId: Number(proposed.stream_img_id), act: 'proposed' as const, by: proposed.proposed_by, at: proposed.proposed_at };
  const notThis = await db.selectFrom('not_this_face').select(['stream_img_id', 'recorded_by', 'recorded_at']).where('stream_img_id', 'in', ids).orderBy('stream_img_id').limit(1).executeTakeFirst();
  return notThis ? { itemId: Number(notThis.stream_img_id), act: 'not-this' as const, by: notThis.recorded_by, at: notThis.recorded_at } : undefined;
}

/** The items of the queue among `ids` (the results and kinds the queue holds), with their lan_id. */
function itemsOf(db: Kysely<Database>, kind: ReviewKind, ids: number[]) {
  if (kind === 'snapshot') return db.selectFrom('stream_img').select(['id', 'lan_id']).where('id', 'in', ids).where('result', 'in', [...REVIEW_RESULTS]).execute();
  if (kind === 'absence') return db.selectFrom('face_alert').select(['id', 'lan_id']).where('id', 'in', ids).where('kind', '=', 'absence').execute();
  return db.selectFrom('train_img').select(['id', 'lan_id']).where('id', 'in', ids).where('result', 'in', [...REFUSED_ENROLMENT_RESULTS]).execute();
}

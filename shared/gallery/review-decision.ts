import type { ConsoleUserRepository } from '../../db/repositories/console-user.repository.ts';
import type { ReviewDecisionRepository } from '../../db/repositories/review-decision.repository.ts';
import type { ReviewDecisionValue, ReviewKind } from '../../db/schema.ts';
import { requireActor } from '../accounts/actor.ts';
import { PermanentError } from '../errors.ts';
import { keptReason } from './reason.ts';

/** At most this many items in one decision (the queue's bulk dismiss). */
export const MAX_REVIEW_BATCH = 100;

export interface ReviewDecisionDeps {
  decisions: Pick<ReviewDecisionRepository, 'decide'>;
  users: Pick<ConsoleUserRepository, 'findByName'>;
}

const WORD: Record<ReviewDecisionValue, string> = { confirm: 'confirmed', dismiss: 'dismissed' };
const NAME: Record<ReviewKind, string> = { snapshot: 'snapshot', absence: 'absence alert', enrolment: 'enrolment' };

/**
 * A supervisor confirms review queue items (the verdict or alert was right) or dismisses
 * them (nothing to do): all of them or none, each audited. An item is decided once; a
 * second decision is refused naming who made the first and when.
 */
export async function decideReview(
  deps: ReviewDecisionDeps,
  p: { kind: ReviewKind; itemIds: readonly number[]; decision: ReviewDecisionValue; by: string; reason?: string },
): Promise<{ items: { itemId: number; lanId: string }[] }> {
  const actor = await requireActor(deps.users, p.by, 'supervisor');
  if (p.itemIds.length === 0) throw new PermanentError('REVIEW_NOTHING', 'refused: no item was chosen (REVIEW_NOTHING)');
  if (p.itemIds.length > MAX_REVIEW_BATCH) throw new PermanentError('REVIEW_TOO_MANY', `refused: ${p.itemIds.length} items; at most ${MAX_REVIEW_BATCH} at once (REVIEW_TOO_MANY)`);
  const r = await deps.decisions.decide({ kind: p.kind, itemIds: p.itemIds, decision: p.decision, by: actor.name, reason: keptReason(p.reason) });
  if (r.outcome === 'unknown') {
    throw new PermanentError('REVIEW_ITEM_UNKNOWN', `refused: there is no ${NAME[p.kind]} ${r.itemId} in the review queue; nothing was decided (REVIEW_ITEM_UNKNOWN)`);
  }
  if (r.outcome === 'conflict') {
    const e = r.existing;
    throw new PermanentError('REVIEW_DECIDED', `refused: ${NAME[p.kind]} ${e.itemId} was already ${WORD[e.decision]} by ${e.decidedBy} at ${e.decidedAt.toISOString()} UTC; nothing was decided (REVIEW_DECIDED)`);
  }
  if (r.outcome === 'acted') {
    const what = r.act === 'proposed' ? 'proposed as the employee ("it is the employee")' : 'recorded as not the employee';
    throw new PermanentError('REVIEW_DECIDED', `refused: snapshot ${r.itemId} was already ${what} by ${r.by} at ${r.at.toISOString()} UTC; nothing was decided (REVIEW_DECIDED)`);
  }
  return { items: r.items };
}

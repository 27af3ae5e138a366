import { sql, type Expression, type ExpressionBuilder, type SqlBool } from 'kysely';
import type { ReviewKind } from './schema.ts';

/** The review queue's `state` filter. `open`: nobody decided it yet; `decided`: someone did; `all`: both. */
export const REVIEW_STATES = ['open', 'decided', 'all'] as const;
export type ReviewState = (typeof REVIEW_STATES)[number];

/**
 * Whether someone decided the item whose id is `idColumn`: a review decision (a probe on its
 * primary key); for a snapshot also a proposal of one of its faces or a not-this face (the
 * supervisor acted on it), for an enrolment a team lead's accepted lookalike pair (each a
 * probe on its foreign key's index).
 */
export function decidedCondition(kind: ReviewKind, idColumn: string) {
  return (eb: ExpressionBuilder<any, any>): Expression<SqlBool> => {
    const id = sql.ref(idColumn);
    const probes = [eb.exists(eb.selectFrom('review_decision as rd').select(sql.lit(1).as('x')).where('rd.kind', '=', kind).where('rd.item_id', '=', id))];
    if (kind === 'snapshot') {
      probes.push(eb.exists(eb.selectFrom('gallery_proposal as gp').select(sql.lit(1).as('x')).where('gp.stream_img_id', '=', id)));
      probes.push(eb.exists(eb.selectFrom('not_this_face as nt').select(sql.lit(1).as('x')).where('nt.stream_img_id', '=', id)));
    }
    if (kind === 'enrolment') probes.push(eb.exists(eb.selectFrom('identity_distinct as idd').select(sql.lit(1).as('x')).where('idd.train_img_id', '=', id)));
    return probes.length === 1 ? probes[0]! : eb.or(probes);
  };
}

/** The queue's `state` filter as a condition, or none for `all`. */
export function stateCondition(kind: ReviewKind, idColumn: string, state: ReviewState) {
  if (state === 'all') return undefined;
  const decided = decidedCondition(kind, idColumn);
  return (eb: ExpressionBuilder<any, any>): Expression<SqlBool> => (state === 'decided' ? decided(eb) : eb.not(decided(eb)));
}

import { sql, type RawBuilder, type SqlBool } from 'kysely';
import type { ReviewKind } from './schema.ts';

/** The review queue's `state` filter. `open`: nobody decided it yet; `decided`: someone did; `all`: both. */
export const REVIEW_STATES = ['open', 'decided', 'all'] as const;
export type ReviewState = (typeof REVIEW_STATES)[number];

/**
 * How many decisions the item whose id is `idColumn` has: a review decision (a lookup of its
 * primary key); for a snapshot also a proposal of one of its faces or a not-this face (the
 * supervisor acted on it), for an enrolment a team lead's accepted lookalike pair (each a
 * lookup of its foreign key's index).
 *
 * Counted in correlated subqueries rather than written as NOT EXISTS: MariaDB turns a NOT
 * EXISTS into NOT IN and materializes every decision of the kind for each page, a read that
 * grows with every decision ever made (they outlive the rows' retention); a count stays a
 * lookup per row the queue's index walk meets (EXPLAIN: DEPENDENT SUBQUERY, eq_ref on the
 * primary key; test/integration/console-review-explain.test.ts). Measured once on MariaDB
 * 10.11 at 20,000 snapshots, a third of them decided: a page in 0.69 ms, against 1.4 ms.
 */
function decisions(kind: ReviewKind, idColumn: string): RawBuilder<number> {
  const id = sql.ref(idColumn);
  const probes = [sql`(SELECT COUNT(*) FROM review_decision rd WHERE rd.kind = ${kind} AND rd.item_id = ${id})`];
  if (kind === 'snapshot') {
    probes.push(sql`(SELECT COUNT(*) FROM gallery_proposal gp WHERE gp.stream_img_id = ${id})`);
    probes.push(sql`(SELECT COUNT(*) FROM not_this_face nt WHERE nt.stream_img_id = ${id})`);
  }
  if (kind === 'enrolment') probes.push(sql`(SELECT COUNT(*) FROM identity_distinct idd WHERE idd.train_img_id = ${id})`);
  return sql<number>`(${sql.join(probes, sql` + `)})`;
}

/** The queue's `state` filter as a condition, or none for `all`. */
export function stateCondition(kind: ReviewKind, idColumn: string, state: ReviewState): RawBuilder<SqlBool> | undefined {
  if (state === 'all') return undefined;
  return state === 'decided' ? sql<SqlBool>`${decisions(kind, idColumn)} > 0` : sql<SqlBool>`${decisions(kind, idColumn)} = 0`;
}

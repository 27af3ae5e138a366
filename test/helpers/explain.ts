// MariaDB's plan for a Kysely statement, and the check the console's keyset lists share:
// no OFFSET, one table read by the expected index in its order, never a full scan or a
// filesort.
import assert from 'node:assert/strict';
import { CompiledQuery, type Kysely } from 'kysely';

export type PlanRow = Record<string, unknown>;

/** EXPLAIN of a compiled statement, with its parameters bound as the query would bind them. */
export async function explain(db: Kysely<any>, q: { sql: string; parameters: readonly unknown[] }): Promise<PlanRow[]> {
  return (await db.executeQuery<PlanRow>(CompiledQuery.raw(`EXPLAIN ${q.sql}`, [...q.parameters]))).rows;
}

/**
 * Asserts a keyset page's plan: no OFFSET, a single table read through an index whose name
 * matches `key`, not a full scan, no filesort. `context` goes into every failure message.
 * Returns the plan's row for further checks.
 */
export async function assertKeysetPlan(db: Kysely<any>, q: { sql: string; parameters: readonly unknown[] }, key: RegExp, context: unknown = ''): Promise<PlanRow> {
  assert.doesNotMatch(q.sql, /offset/i);
  const plan = await explain(db, q);
  assert.equal(plan.length, 1, JSON.stringify({ context, plan }));
  const row = plan[0]!;
  assert.match(String(row.key), key, JSON.stringify({ context, row }));
  assert.notEqual(row.type, 'ALL', JSON.stringify({ context, row }));
  assert.doesNotMatch(String(row.Extra), /filesort/, JSON.stringify({ context, row }));
  return row;
}

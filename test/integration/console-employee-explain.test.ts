// The employee list and the per-day chart (issue 28) read an index that starts with
// lan_id: EXPLAIN over 30,000 rows, on a database of their own.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { resultsPerDayQuery, searchQuery } from '../../db/repositories/employee.repository.ts';
import { assertKeysetPlan, explain } from '../helpers/explain.ts';
import { useTestEnv } from '../helpers/test-env.ts';

const env = useTestEnv('consoleemployeeexplain');
const db = () => env().database().db;

test("the list and the chart's counts read an index that starts with lan_id, without a filesort or OFFSET (EXPLAIN)", async () => {
  await sql`INSERT INTO train_img (lan_id, status) SELECT CONCAT('load', seq % 10000), 'Y' FROM seq_1_to_30000`.execute(db());
  await sql`INSERT INTO stream_img (lan_id, capture_time, status, result) SELECT CONCAT('load', seq % 100), TIMESTAMP '2026-06-01 00:00:00' + INTERVAL seq MINUTE, 'Y', 'SUCCESS' FROM seq_1_to_30000`.execute(db());
  await sql`ANALYZE TABLE train_img, stream_img`.execute(db());
  for (const f of [{ prefix: '', limit: 51 }, { prefix: 'load1', limit: 51 }, { prefix: 'load', after: 'load5000', limit: 51 }]) {
    const row = await assertKeysetPlan(db(), searchQuery(db(), f).compile(), /^train_img_lan_status_id$/, f);
    assert.doesNotMatch(String(row.Extra), /temporary/, JSON.stringify(row));
  }
  const plan = await explain(db(), resultsPerDayQuery(db(), 'load7', new Date('2026-06-01T00:00:00Z'), new Date('2026-07-01T00:00:00Z')).compile());
  assert.equal(plan.length, 1);
  assert.equal(plan[0]!.key, 'stream_img_lan_capture_result', JSON.stringify(plan[0]));
  assert.match(String(plan[0]!.Extra), /Using index/, 'the index alone answers it');
});

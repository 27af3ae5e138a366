// The report roll-ups (issue 27): report_results_per_hour and report_results_per_day read
// counts the upkeep keeps, and answer what seed 004's view, grouping the whole table,
// answers on the same rows: after verdicts land on rows counted while unjudged, after a
// row counted unjudged is deleted, when a run is repeated or two run at once; and row
// retention deletes only rows the roll-ups counted, which keep their counts.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql, type Kysely } from 'kysely';
import { REPORT_VIEWS } from '../../db/migrations/20261201T1300-metabase-views.ts';
import { operationsRepository } from '../../db/repositories/operations.repository.ts';
import { rowRetentionRepository } from '../../db/repositories/row-retention.repository.ts';
import { catchUpRollups, runRollup } from '../../services/upkeep/rollup.ts';
import { createTestEnv, type TestEnv } from '../helpers/test-env.ts';

let t: TestEnv;
let db: Kysely<any>;

before(async () => {
  t = await createTestEnv('reportrollups');
  db = t.database().db as Kysely<any>;
  await db.insertInto('employee').values([
    { lan_id: 'NA\\ada', name: 'Ada' },
    { lan_id: 'NA\\bob', name: 'Bob' },
  ]).execute();
});

after(async () => {
  await t.cleanup();
});

const RESULTS = ['SUCCESS', 'SUCCESS_MULTIPLE_FACES', 'UNKNOWN_PERSON', 'NO_FACES_FOUND', 'IMPERSONATION_SUSPECTED', null] as const;

/** `n` snapshots over a few hours of three people (one not an employee), some not judged yet. */
async function addSnapshots(n: number, seed: number): Promise<void> {
  const rows = [];
  for (let i = 0; i < n; i++) {
    const k = (i * 7 + seed) % 97;
    const result = RESULTS[k % RESULTS.length]!;
    rows.push({
      lan_id: ['NA\\ada', 'NA\\bob', 'NA\\eve'][k % 3]!,
      capture_time: new Date(Date.UTC(2026, 10, 30, 8 + (k % 5), (k * 13) % 60, k % 60)),
      // An unjudged row (no result) is N or P; a few F rows have no result either.
      status: result === null ? (k % 4 === 0 ? 'F' : k % 2 === 0 ? 'P' : 'N') : 'Y',
      result,
    });
  }
  await db.insertInto('stream_img').values(rows).execute();
}

type Row = [string, string, string | null, number | null, string | null, number];

function normalise(rows: Record<string, any>[], bucket: 'hour' | 'day'): Row[] {
  return rows
    .map((r): Row => [r.lan_id, new Date(r[bucket]).toISOString(), r.result, r.is_success === null ? null : Number(r.is_success), r.employee_name, Number(r.snapshots)])
    .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
}

/** Seed 004's hourly view, run over the table as it is now; its daily twin. */
async function fromTable(bucket: 'hour' | 'day'): Promise<Row[]> {
  const r = bucket === 'hour'
    ? await sql<Record<string, any>>`SELECT * FROM (${REPORT_VIEWS.report_results_per_hour}) v`.execute(db)
    : await sql<Record<string, any>>`
        SELECT s.lan_id AS lan_id, e.name AS employee_name, CAST(s.capture_time AS DATE) AS day, s.result AS result, rc.is_success AS is_success, COUNT(*) AS snapshots
        FROM stream_img s LEFT JOIN employee e ON e.lan_id = s.lan_id LEFT JOIN result_code rc ON rc.code = s.result
        GROUP BY s.lan_id, e.name, CAST(s.capture_time AS DATE), s.result, rc.is_success`.execute(db);
  return normalise(r.rows, bucket);
}

async function fromView(bucket: 'hour' | 'day'): Promise<Row[]> {
  const view = bucket === 'hour' ? 'report_results_per_hour' : 'report_results_per_day';
  return normalise((await sql<Record<string, any>>`SELECT * FROM ${sql.table(view)}`.execute(db)).rows, bucket);
}

async function assertSameAnswers(): Promise<void> {
  for (const bucket of ['hour', 'day'] as const) assert.deepEqual(await fromView(bucket), await fromTable(bucket), bucket);
}

test('the roll-up views answer what grouping the table answers', async () => {
  await addSnapshots(300, 1);
  await catchUpRollups(db);
  assert.ok((await fromView('hour')).length > 20);
  await assertSameAnswers();
});

test('verdicts on rows counted while unjudged move their count; a deleted unjudged row leaves it', async () => {
  const open = await db.selectFrom('stream_img').select('id').where('status', 'in', ['N', 'P']).orderBy('id').execute();
  assert.ok(open.length > 10);
  for (const [i, { id }] of open.slice(0, 8).entries()) {
    await db.updateTable('stream_img').set({ status: i % 3 === 0 ? 'F' : 'Y', result: i % 3 === 0 ? 'INVALID_IMAGE' : 'UNKNOWN_PERSON' }).where('id', '=', id).execute();
  }
  await db.deleteFrom('stream_img').where('id', '=', open[9]!.id).execute();
  await addSnapshots(50, 5);
  await catchUpRollups(db);
  await assertSameAnswers();
});

test('a repeated run and two runs at once count each row once', async () => {
  await addSnapshots(120, 9);
  const open = await db.selectFrom('stream_img').select('id').where('status', '=', 'N').orderBy('id').limit(3).execute();
  await db.updateTable('stream_img').set({ status: 'Y', result: 'SUCCESS' }).where('id', 'in', open.map((o) => o.id)).execute();
  await Promise.all([catchUpRollups(db), catchUpRollups(db), catchUpRollups(db)]);
  await catchUpRollups(db);
  await assertSameAnswers();
});

test('the scheduled run counts only ids an earlier run saw', async () => {
  await addSnapshots(40, 11);
  const before = await fromView('hour');
  // The first run after the inserts only notes them: an id taken by an insert not yet
  // committed is left an interval to commit.
  const first = await runRollup(db);
  assert.equal(first.counted, 0);
  assert.deepEqual(await fromView('hour'), before);
  const second = await runRollup(db);
  assert.equal(second.counted, 40);
  await assertSameAnswers();
});

test('row retention deletes old judged rows the roll-ups counted, in batches, and the roll-ups keep their counts', async () => {
  await addSnapshots(30, 13); // not yet counted: kept whatever their age
  const hours = await fromView('hour');
  const days = await fromView('day');
  const before = await db.selectFrom('stream_img').select(['id', 'status']).execute();
  const watermark = Number((await sql<{ w: number }>`SELECT last_id AS w FROM rollup_state WHERE name = 'stream_result'`.execute(db)).rows[0]!.w);
  const retention = rowRetentionRepository(db);
  let batches = 0;
  for (let n = 25; n === 25; batches++) n = await retention.deleteOldSnapshots(new Date(), 25);
  assert.ok(batches > 3);
  const left = await db.selectFrom('stream_img').select(['id', 'status']).execute();
  const expected = before.filter((r) => ['N', 'P'].includes(r.status) || r.id > watermark);
  assert.deepEqual(left.map((r) => r.id).sort(), expected.map((r) => r.id).sort());
  const orphans = await sql<{ n: number }>`SELECT COUNT(*) AS n FROM process_status p WHERE p.image_type = 'stream' AND NOT EXISTS (SELECT 1 FROM stream_img s WHERE s.id = p.image_id)`.execute(db);
  assert.equal(Number(orphans.rows[0]!.n), 0);
  assert.deepEqual(await fromView('hour'), hours);
  assert.deepEqual(await fromView('day'), days);
});

test("vigil delete-user's deletion takes the person's roll-up counts with it", async () => {
  await catchUpRollups(db);
  const has = async () => (await fromView('hour')).filter((r) => r[0] === 'NA\\bob').length;
  assert.ok((await has()) > 0);
  const r = await operationsRepository(db).deleteEmployee('na\\BOB');
  assert.equal(r.outcome, 'deleted');
  assert.equal(await has(), 0);
  const left = await sql<{ n: number }>`SELECT (SELECT COUNT(*) FROM stream_result_day WHERE lan_id = 'NA\\\\bob') + (SELECT COUNT(*) FROM stream_rollup_row WHERE lan_id = 'NA\\\\bob') AS n`.execute(db);
  assert.equal(Number(left.rows[0]!.n), 0);
});

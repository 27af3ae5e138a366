// Issue 27: every report view and every query the services, the upkeep and `vigil rescue`
// run on the big tables reads an index. Over a filled database (50,000 snapshots of 10,000
// employees, analysed, so the optimizer plans as on a real site), EXPLAIN of each fails on
// a full scan (`ALL`, or `index`: every entry of an index) of stream_img, train_img or
// process_status. The services' queries are captured as the code sends them, by running
// the repositories on a Kysely that logs them.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { CompiledQuery, Kysely, MysqlDialect, sql } from 'kysely';
import { createPool } from 'mysql2';
import { connectionOptions, parseDatabaseUrl } from '../../db/connection.ts';
import type { Database } from '../../db/schema.ts';
import { facestreamingRepository } from '../../db/repositories/facestreaming.repository.ts';
import { rowRetentionRepository } from '../../db/repositories/row-retention.repository.ts';
import { catchUpRollups, runRollup } from '../../services/upkeep/rollup.ts';
import { fillEmployees, fillSnapshots, leaveNewest } from '../bench/scale-fill.ts';
import { timedQueries, verdictOnce } from '../bench/scale-queries.ts';
import { createTestEnv, type TestEnv } from '../helpers/test-env.ts';

const BIG = ['stream_img', 'train_img', 'process_status'];

let t: TestEnv;
let db: Kysely<Database>;
const captured: { sql: string; parameters: readonly unknown[] }[] = [];
let capturing = false;

before(async () => {
  t = await createTestEnv('reportexplain');
  const pool = createPool({ ...connectionOptions(parseDatabaseUrl(t.config.database.url)), connectionLimit: 2 });
  pool.on('connection', (c) => c.query("SET time_zone = '+00:00'"));
  db = new Kysely<Database>({
    dialect: new MysqlDialect({ pool }),
    log: (e) => {
      if (capturing && e.level === 'query') captured.push({ sql: e.query.sql, parameters: e.query.parameters });
    },
  });
  await fillEmployees(db);
  await fillSnapshots(db, 0, 50_000);
  await leaveNewest(db);
  await catchUpRollups(db);
  await sql`ANALYZE TABLE stream_img, train_img, process_status, employee, report_person, stream_result_hour, stream_result_day`.execute(db);
});

after(async () => {
  await db?.destroy();
  await t.cleanup();
});

/** Table aliases of the big tables in a statement (`stream_img s`, `train_img AS t`, `vigil`.`stream_img` `s`). */
function bigAliases(text: string): Set<string> {
  const names = new Set<string>(BIG);
  const re = /`?(stream_img|train_img|process_status)`?\s+(?:as\s+)?`?([a-z_][a-z0-9_]*)`?/gi;
  for (const m of text.matchAll(re)) {
    if (!/^(where|on|set|left|join|inner|group|order|limit|union|for|using)$/i.test(m[2]!)) names.add(m[2]!);
  }
  return names;
}

/**
 * A read of a big table that grows with it: every row or every entry of an index (`ALL`,
 * `index`), or an index range estimated at more than a tenth of the 50,000 snapshots. A
 * loose index scan (`Using index for group-by`: one dive per employee) is not one.
 */
const LARGE = 5_000;
const ALLOWED: RegExp[] = [];
/** The roll-ups' catch-up reads one batch of ids by primary key, bounded by the batch, not the table. */
const ALLOWED_STATEMENTS = [
  /^INSERT INTO `stream_result_(hour|day)`[^]* → s: range \(key PRIMARY/,
  // Row retention walks the capture_time index from the oldest row left, LIMIT a batch:
  // EXPLAIN estimates the whole range, the scan stops at the batch (no filesort: the order
  // is the index's). Rows already deleted are not there to read again.
  // Either capture-ordered index will do (stream_img_capture came with the face export, issue 26).
  /^\s*SELECT id FROM stream_img\s+WHERE capture_time < \?[^]* → stream_img: range \(key stream_img_capture(_result)?, ~\d+ rows, Using where\)$/,
];

/** The EXPLAIN rows that read all of a big table. */
async function fullScans(statement: string, parameters: readonly unknown[], context: string): Promise<string[]> {
  const plan = await db.executeQuery<Record<string, unknown>>(CompiledQuery.raw(`EXPLAIN ${statement}`, [...parameters]));
  const aliases = bigAliases(`${statement}\n${context}`);
  return plan.rows
    .filter((r) => aliases.has(String(r.table)) && r.rows !== null && !/index for group-by/.test(String(r.Extra ?? '')))
    .filter((r) => ((r.type === 'ALL' || r.type === 'index') && Number(r.rows) > 100) || Number(r.rows) > LARGE)
    .map((r) => `${r.table}: ${r.type} (key ${r.key ?? '-'}, ~${r.rows} rows, ${r.Extra ?? ''})`);
}

async function viewDefinitions(): Promise<string> {
  const r = await sql<{ d: string }>`SELECT VIEW_DEFINITION AS d FROM information_schema.VIEWS WHERE TABLE_SCHEMA = DATABASE()`.execute(db);
  return r.rows.map((x) => x.d).join('\n');
}

test('every report view, as Metabase asks it, reads an index of the big tables', async () => {
  const context = await viewDefinitions();
  const problems: string[] = [];
  for (const q of (await timedQueries(db)).filter((x) => x.kind === 'report')) {
    const views = [...q.name.matchAll(/report_[a-z_]+/g)].map((m) => m[0]);
    const who = "'NA\\\\e4242'";
    const statement = q.name.endsWith('one lan_id') ? `SELECT * FROM ${views[0]} WHERE lan_id = ${who} LIMIT 2000` : `SELECT * FROM ${views[0]} LIMIT 50`;
    for (const p of await fullScans(statement, [], context)) {
      const problem = `${q.name}: ${p}`;
      if (!ALLOWED.some((a) => a.test(problem))) problems.push(problem);
    }
  }
  assert.deepEqual(problems, []);
});

test("the services', the upkeep's and vigil rescue's queries read an index of the big tables", async () => {
  const hot = (await timedQueries(db)).filter((x) => x.kind === 'hot');
  captured.length = 0;
  capturing = true;
  try {
    for (const q of hot) await q.run(db);
    await verdictOnce(db, 1);
    await runRollup(db);
    await runRollup(db);
    await rowRetentionRepository(db).deleteOldSnapshots(new Date('2026-01-20T00:00:00Z'), 500);
  } finally {
    capturing = false;
  }
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const c of captured) {
    if (!/^\s*(select|update|delete|insert)/i.test(c.sql) || seen.has(c.sql)) continue;
    seen.add(c.sql);
    for (const p of await fullScans(c.sql, c.parameters, '')) {
      const problem = `${c.sql.slice(0, 160)} → ${p}`;
      if (!ALLOWED_STATEMENTS.some((a) => a.test(problem))) problems.push(problem);
    }
  }
  assert.ok(seen.size > 15, `${seen.size} statements captured`);
  assert.deepEqual(problems, []);
});

test("a verdict's absence-streak read walks one index in capture order and reads nothing else (no filesort, no row fetch)", async () => {
  const repo = facestreamingRepository(db);
  const who = await db.selectFrom('stream_img').select(['lan_id']).orderBy('id', 'desc').limit(1).executeTakeFirstOrThrow();
  captured.length = 0;
  capturing = true;
  try {
    await repo.verdictsBefore({ id: 2 ** 40, lanId: who.lan_id, captureTime: new Date(), status: 'N' }, ['SUCCESS', 'NO_FACES_FOUND', 'UNKNOWN_PERSON'], 3);
  } finally {
    capturing = false;
  }
  assert.equal(captured.length, 1);
  const plan = await db.executeQuery<Record<string, unknown>>(CompiledQuery.raw(`EXPLAIN ${captured[0]!.sql}`, [...captured[0]!.parameters]));
  assert.equal(plan.rows.length, 1);
  const row = plan.rows[0]!;
  assert.equal(row.key, 'stream_img_lan_capture_result');
  assert.match(String(row.Extra), /Using index/);
  assert.doesNotMatch(String(row.Extra), /filesort|Using index condition/);
});

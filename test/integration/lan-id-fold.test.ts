// Issue 22, finding 1: the lan_id columns carry the identity rule (case-insensitive,
// accent- and space-sensitive), and the employee lock key (shared/employee-lock-key.ts) is
// exactly that rule as this server implements it: it is made from the server's weight of
// the name, read by facetraining and facestreaming with the row and by delete-user for its
// argument, so every spelling of one identity gets one lock and different people different ones.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql, type Kysely } from 'kysely';
import { facestreamingRepository } from '../../db/repositories/facestreaming.repository.ts';
import { facetrainingRepository } from '../../db/repositories/facetraining.repository.ts';
import { operationsRepository } from '../../db/repositories/operations.repository.ts';
import { employeeLockKey } from '../../shared/employee-lock-key.ts';
import { createTestEnv, type TestEnv } from '../helpers/test-env.ts';

let t: TestEnv;
let db: Kysely<any>;

before(async () => {
  t = await createTestEnv('lanidfold');
  db = t.database().db as Kysely<any>;
});
after(async () => {
  await t.cleanup();
});

async function lanIdColumns(): Promise<{ table: string; collation: string; type: string; nullable: string }[]> {
  const r = await sql<{ table: string; collation: string; type: string; nullable: string }>`
    SELECT c.TABLE_NAME AS \`table\`, c.COLLATION_NAME AS collation, c.COLUMN_TYPE AS type, c.IS_NULLABLE AS nullable
    FROM information_schema.COLUMNS c
    JOIN information_schema.TABLES x ON x.TABLE_SCHEMA = c.TABLE_SCHEMA AND x.TABLE_NAME = c.TABLE_NAME
    WHERE c.TABLE_SCHEMA = DATABASE() AND x.TABLE_TYPE = 'BASE TABLE' AND c.COLUMN_NAME = 'lan_id'
    ORDER BY c.TABLE_NAME`.execute(db);
  return r.rows;
}

test('every lan_id column is case-insensitive, accent-sensitive and NO PAD, still varchar(64) NOT NULL, employee.lan_id still unique', async () => {
  const cols = await lanIdColumns();
  // The roll-ups' tables (issue 27) count per person too: the same identity, or a person would split.
  // And the gallery's (issue 26): its decisions name people by the same rule.
  assert.deepEqual(cols.map((c) => c.table), [
    'audit_log', 'employee', 'employee_threshold', 'face_alert', 'face_descriptor', 'gallery_proposal', 'gallery_removal', 'identity_distinct',
    'not_this_face', 'report_person', 'review_decision', 'snapshot_face', 'stream_face', 'stream_img', 'stream_result_day', 'stream_result_hour',
    'stream_rollup_row', 'train_img',
  ]);
  const version = (await sql<{ v: string }>`SELECT VERSION() AS v`.execute(db)).rows[0]!.v;
  const expected = /mariadb/i.test(version) ? 'utf8mb4_uca1400_nopad_as_ci' : 'utf8mb4_0900_as_ci';
  // An audit entry need not be about an employee (an account's change is not).
  for (const c of cols) assert.deepEqual([c.table, c.collation, c.type, c.nullable], [c.table, expected, 'varchar(64)', c.table === 'audit_log' ? 'YES' : 'NO']);
  const other = await sql<{ collation: string }>`
    SELECT COLLATION_NAME AS collation FROM information_schema.COLUMNS
    WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'identity_distinct' AND COLUMN_NAME = 'other_lan_id'`.execute(db);
  assert.equal(other.rows[0]?.collation, expected, 'the other side of an accepted pair too');

  const unique = await sql<{ n: number }>`
    SELECT COUNT(*) AS n FROM information_schema.STATISTICS
    WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'employee' AND COLUMN_NAME = 'lan_id' AND NON_UNIQUE = 0`.execute(db);
  assert.equal(Number(unique.rows[0]?.n), 1);

  const same = async (a: string, b: string) => Number((await sql<{ eq: number }>`SELECT (${a} COLLATE ${sql.raw(expected)}) = ${b} AS eq`.execute(db)).rows[0]?.eq) === 1;
  assert.equal(await same('NA\\nvep5898', 'na\\NVEP5898'), true);
  assert.equal(await same('josé', 'JOSÉ'), true);
  assert.equal(await same('josé', 'jose'), false);
  assert.equal(await same('jose ', 'jose'), false);
  assert.equal(await same('ÁNN', 'ann'), false);
});

/** The lock keys of one spelling as facetraining, facestreaming and delete-user make them. */
async function lockKeys(lanId: string): Promise<{ training: string; streaming: string; deleteUser: string }> {
  const train = Number((await db.insertInto('train_img').values({ lan_id: lanId, status: 'Y', image: Buffer.from('t') }).executeTakeFirstOrThrow()).insertId);
  const stream = Number((await db.insertInto('stream_img').values({ lan_id: lanId, status: 'Y', image: Buffer.from('s') }).executeTakeFirstOrThrow()).insertId);
  const trained = await facetrainingRepository(db).findTrainImage(train);
  const streamed = await facestreamingRepository(db).findSnapshot(stream);
  return {
    training: employeeLockKey(trained!.lanIdWeight),
    streaming: employeeLockKey(streamed!.lanIdWeight),
    deleteUser: employeeLockKey(await operationsRepository(db).lanIdWeight(lanId)),
  };
}

/** The one key every path gives this spelling. */
async function lockKey(lanId: string): Promise<string> {
  const k = await lockKeys(lanId);
  assert.equal(k.streaming, k.training, `${JSON.stringify(lanId)}: facestreaming and facetraining agree`);
  assert.equal(k.deleteUser, k.training, `${JSON.stringify(lanId)}: delete-user (the name as a parameter) and the face services (the column) agree`);
  return k.training;
}

test('spellings the server weighs alike share one lock key, from the face services and from delete-user: ƾ and ts, ʣ and dz, case, NFC and NFD, an ignorable character', async () => {
  const same: string[][] = [
    // A fold in JS kept U+01BE and U+02A3 apart from the letters the collation weighs them as.
    ['NA\\\u01bea', 'NA\\tsa', 'na\\TSA', 'NA\\\u02a6a'],
    ['NA\\\u02a3o', 'NA\\dzo', 'NA\\DZo'],
    ['ann', 'ANN', 'aNn'],
    ['NA\\nvep5898', 'na\\NVEP5898'],
    ['zo\u00eb', 'zoe\u0308', 'ZO\u00cb'],
    ['ann', 'a\u00adnn'],
  ];
  for (const group of same) {
    const keys = new Set<string>();
    for (const name of group) keys.add(await lockKey(name));
    assert.equal(keys.size, 1, `${JSON.stringify(group)}: one key`);
    // And the database agrees that they are one identity.
    const [first, ...rest] = group;
    for (const other of rest) {
      const eq = await sql<{ eq: number }>`SELECT COUNT(*) AS eq FROM train_img WHERE lan_id = ${first} AND CAST(lan_id AS BINARY) = CAST(${other} AS BINARY)`.execute(db);
      assert.ok(Number(eq.rows[0]?.eq) >= 1, `${JSON.stringify(first)} = ${JSON.stringify(other)} under the collation`);
    }
  }
});

test('different identities get different lock keys: accents, trailing and inner spaces, dotless ı, another domain', async () => {
  const different = ['ann', '\u00e1nn', 'ann ', ' ann', 'a nn', 'jose', 'jose ', 'jos\u00e9', 'NA\\ada', 'EU\\ada', 'NA\\ada2', '\u0131', 'i'];
  const keys = new Map<string, string>();
  for (const name of different) keys.set(await lockKey(name), name);
  assert.equal(keys.size, different.length, `one key each: ${JSON.stringify([...keys.values()])}`);
});

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { ensureDatabaseExists, openDatabase } from '../../db/connection.ts';
import { migrateToLatest } from '../../db/migrate.ts';
import { RESULT_CODES } from '../../shared/contract/result-codes.ts';
import { createTestEnv, type TestEnv } from '../helpers/test-env.ts';

/** CONTRACT.md, "Database": these tables and columns are fixed. */
const CONTRACT_COLUMNS: Record<string, string[]> = {
  employee: ['id', 'lan_id', 'name', 'email', 'created_at'],
  train_img: ['id', 'lan_id', 'capture_time', 'image', 'status', 'result', 'processed_time', 'num_faces'],
  stream_img: ['id', 'lan_id', 'capture_time', 'image', 'status', 'result', 'processed_time', 'accuracy', 'distance', 'num_faces', 'train_img_id'],
  process_status: ['id', 'image_type', 'image_id', 'status', 'result', 'detail', 'attempt', 'worker', 'started_at', 'finished_at'],
  result_code: ['code', 'description', 'is_success'],
};

let t: TestEnv;
before(async () => {
  t = await createTestEnv('migrations', {}, { migrate: false });
});
after(() => t.cleanup());

test('migrate on an empty database creates every table and column of the contract', async () => {
  assert.equal(await ensureDatabaseExists(t.config.database.url), true);
  const report = await migrateToLatest(t.database().db);
  assert.ok(report.applied.length >= 1);
  const cols = await sql<{ t: string; c: string; type: string }>`
    SELECT TABLE_NAME AS t, COLUMN_NAME AS c, DATA_TYPE AS type FROM information_schema.COLUMNS
    WHERE TABLE_SCHEMA = DATABASE()`.execute(t.database().db);
  for (const [table, columns] of Object.entries(CONTRACT_COLUMNS)) {
    const have = cols.rows.filter((r) => r.t === table).map((r) => r.c);
    for (const c of columns) assert.ok(have.includes(c), `${table}.${c} exists`);
  }
  const image = cols.rows.find((r) => r.t === 'train_img' && r.c === 'image');
  assert.equal(image?.type, 'longblob');
});

test('result_code holds every result with its description', async () => {
  const rows = await t.database().db.selectFrom('result_code').selectAll().orderBy('code').execute();
  assert.deepEqual(rows.map((r) => r.code), RESULT_CODES.map((r) => r.code).sort());
  for (const r of rows) assert.ok(r.description.length > 10);
  assert.deepEqual(rows.filter((r) => Number(r.is_success) === 1).map((r) => r.code), ['SUCCESS', 'SUCCESS_MULTIPLE_FACES']);
});

test('indexes exist for lookups by lan_id, status and capture_time', async () => {
  const idx = await sql<{ t: string; c: string; seq: number }>`
    SELECT TABLE_NAME AS t, COLUMN_NAME AS c, SEQ_IN_INDEX AS seq FROM information_schema.STATISTICS
    WHERE TABLE_SCHEMA = DATABASE() AND SEQ_IN_INDEX = 1`.execute(t.database().db);
  const leading = (table: string) => idx.rows.filter((r) => r.t === table).map((r) => r.c);
  for (const table of ['train_img', 'stream_img']) {
    for (const c of ['lan_id', 'status', 'capture_time']) assert.ok(leading(table).includes(c), `${table} has an index led by ${c}`);
  }
  assert.ok(leading('employee').includes('lan_id'));
});

test('migrate again on a migrated database applies nothing and changes nothing', async () => {
  const db = t.database().db;
  await db.insertInto('train_img').values({ lan_id: 'NA\\keep', image: Buffer.from([1, 2, 3]) }).execute();
  const report = await migrateToLatest(db);
  assert.deepEqual(report.applied, []);
  const rows = await db.selectFrom('train_img').select(['lan_id', 'status']).execute();
  assert.deepEqual(rows, [{ lan_id: 'NA\\keep', status: 'N' }]);
});

test('two migrations at once on a new database both succeed (the migrator locks)', async () => {
  const other = await createTestEnv('migrations2', {}, { migrate: false });
  try {
    await ensureDatabaseExists(other.config.database.url);
    const a = openDatabase(other.config.database.url, { poolSize: 2 });
    const b = openDatabase(other.config.database.url, { poolSize: 2 });
    try {
      const [ra, rb] = await Promise.all([migrateToLatest(a.db), migrateToLatest(b.db)]);
      const applied = [...ra.applied, ...rb.applied];
      assert.equal(new Set(applied).size, applied.length, 'no migration applied twice');
      const recorded = await a.db.selectFrom('kysely_migration' as never).select('name' as never).execute();
      assert.equal(recorded.length, applied.length, 'each recorded migration was applied by one of the two');
      assert.ok(applied.includes('20261121T0900-initial-schema'));
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  } finally {
    await other.cleanup();
  }
});

test('stored rows round-trip: LONGBLOB bytes, UTC datetimes, status defaults', async () => {
  const db = t.database().db;
  const bytes = Buffer.alloc(3 * 1024 * 1024, 7);
  const when = new Date('2026-03-01T12:34:56.789Z');
  const { insertId } = await db.insertInto('stream_img').values({ lan_id: 'NA\\ada', image: bytes, capture_time: when }).executeTakeFirstOrThrow();
  const row = await db.selectFrom('stream_img').selectAll().where('id', '=', Number(insertId)).executeTakeFirstOrThrow();
  assert.equal(row.status, 'N');
  assert.equal(row.capture_time.toISOString(), when.toISOString());
  assert.ok(row.image?.equals(bytes));
});

// Issue 22, finding 11: times are stored and compared in UTC whatever the inserting
// session's time zone. A producer writing stream_img from a `-05:00` session must not have
// its row taken for an hour-old orphan at once, nor one from `+09:00` dated in the future.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { createConnection } from 'mysql2/promise';
import { openDatabase, parseDatabaseUrl } from '../../db/connection.ts';
import { operationsRepository } from '../../db/repositories/operations.repository.ts';
import { createLockManager } from '../../shared/lock.ts';
import { rescueOrphans } from '../../shared/runtime/orphan-rescue.ts';
import { createTestEnv, type TestEnv } from '../helpers/test-env.ts';

const HOUR = 3_600_000;
let t: TestEnv;

before(async () => {
  t = await createTestEnv('utctimes');
});
after(async () => {
  await t.cleanup();
});

/** Inserts a stream_img without a capture_time, as a producer would, from a session in `zone`. */
async function producerInsert(zone: string, lanId: string): Promise<number> {
  const target = parseDatabaseUrl(t.config.database.url);
  const conn = await createConnection({ host: target.host, port: target.port, user: target.user, password: target.password, database: target.database });
  try {
    await conn.query('SET time_zone = ?', [zone]);
    const [r] = await conn.query('INSERT INTO stream_img (lan_id, image) VALUES (?, ?)', [lanId, Buffer.from('x')]);
    return (r as { insertId: number }).insertId;
  } finally {
    await conn.end();
  }
}

test('a stream_img inserted from a -05:00 or a +09:00 session gets a UTC capture_time and is not rescued as an hour-old orphan', async () => {
  const db = t.database().db;
  const west = await producerInsert('-05:00', 'NA\\west');
  const east = await producerInsert('+09:00', 'NA\\east');

  for (const id of [west, east]) {
    const row = await db.selectFrom('stream_img').select('capture_time').where('id', '=', id).executeTakeFirstOrThrow();
    const skewMs = Math.abs(row.capture_time.getTime() - Date.now());
    assert.ok(skewMs < 30_000, `stream_img ${id}: capture_time ${row.capture_time.toISOString()} is ${Math.round(skewMs / 60_000)} min away from now (UTC)`);
  }

  const cutoff = new Date(Date.now() - HOUR);
  assert.deepEqual(await operationsRepository(db).stuckImages('stream', cutoff, 100), [], 'the orphan query selects neither row');

  const lockDb = openDatabase(t.config.database.url, { poolSize: 1 });
  try {
    const locks = createLockManager({ db: lockDb.db, namespace: t.databaseName });
    const log = { warn: () => undefined, error: () => undefined };
    const report = await rescueOrphans({ db, locks, publisher: undefined, log }, { cutoff, now: new Date(), baseDelayMs: HOUR });
    assert.deepEqual(report.stream, [], 'a dry-run orphan rescue with a 1 h age finds neither row');
  } finally {
    await lockDb.close();
  }
});

test('every column default that stamps the time stamps UTC, from any session', async () => {
  const db = t.database().db;
  const rows = await sql<{ t: string; c: string; d: string }>`
    SELECT c.TABLE_NAME AS t, c.COLUMN_NAME AS c, c.COLUMN_DEFAULT AS d FROM information_schema.COLUMNS c
    JOIN information_schema.TABLES x ON x.TABLE_SCHEMA = c.TABLE_SCHEMA AND x.TABLE_NAME = c.TABLE_NAME
    WHERE c.TABLE_SCHEMA = DATABASE() AND x.TABLE_TYPE = 'BASE TABLE' AND c.DATA_TYPE = 'datetime' AND c.COLUMN_DEFAULT IS NOT NULL AND c.COLUMN_DEFAULT <> 'NULL'`.execute(db);
  assert.ok(rows.rows.length >= 10, 'the created_at / capture_time columns are there');
  for (const r of rows.rows) assert.match(r.d, /^\(?utc_timestamp\(3\)\)?$/i, `${r.t}.${r.c} defaults to ${r.d}`);
});

test("Vigil's own connections run with the session time zone at UTC, so NOW() in SQL is UTC too", async () => {
  const h = openDatabase(t.config.database.url, { poolSize: 2 });
  try {
    for (let i = 0; i < 3; i++) {
      const r = await sql<{ tz: string; skew: number }>`SELECT @@session.time_zone AS tz, TIMESTAMPDIFF(SECOND, UTC_TIMESTAMP(), NOW()) AS skew`.execute(h.db);
      assert.equal(r.rows[0]?.tz, '+00:00');
      assert.equal(Number(r.rows[0]?.skew), 0);
    }
  } finally {
    await h.close();
  }
});

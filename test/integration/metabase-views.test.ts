// The report_* views Metabase reads: created by `vigil migrate`, answering the seed's
// questions over real rows, never exposing an image; and compose/metabase-grants.sh, run
// as it is, gives a user that reads the views and nothing else, and Metabase's own
// application database with a user that may do anything there and nothing in vigil's.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { sql, type Kysely } from 'kysely';
import { createConnection, type Connection } from 'mysql2/promise';
import { parseDatabaseUrl } from '../../db/connection.ts';
import { REPORT_VIEW_NAMES } from '../../db/report-views.ts';
import { catchUpRollups } from '../../services/upkeep/rollup.ts';
import { createTestEnv, type TestEnv } from '../helpers/test-env.ts';

const GRANTS_SCRIPT = resolve(import.meta.dirname, '../../compose/metabase-grants.sh');
const IMAGE = Buffer.from('not really a jpeg, but bytes no view may show');

let t: TestEnv;
let db: Kysely<any>;
let dir: string;
const reader = { user: `vigil_mb_${randomBytes(4).toString('hex')}`, password: `pw'\\${randomBytes(6).toString('hex')}` };
const app = {
  database: `vigil_test_mbapp_${randomBytes(4).toString('hex')}`,
  user: `vigil_mba_${randomBytes(4).toString('hex')}`,
  password: `app'\\${randomBytes(6).toString('hex')}`,
};

before(async () => {
  t = await createTestEnv('metabaseviews');
  db = t.database().db as Kysely<any>;
  dir = await mkdtemp(join(tmpdir(), 'vigil-mb-'));
  await seed();
  // The hourly and daily views read the roll-ups the upkeep keeps (issue 27).
  await catchUpRollups(db);
});

after(async () => {
  for (const user of [reader.user, app.user]) await sql`DROP USER IF EXISTS ${sql.lit(user)}@'%'`.execute(db).catch(() => undefined);
  await sql`DROP DATABASE IF EXISTS ${sql.id(app.database)}`.execute(db).catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
  await t.cleanup();
});

const at = (s: string) => new Date(`${s}Z`);
/** Every report view `vigil migrate` creates: seed 004's, and the daily roll-up of issue 27. */
const VIEWS = REPORT_VIEW_NAMES;

async function seed(): Promise<void> {
  await db.insertInto('employee').values([
    { lan_id: 'NA\\ada', name: 'Ada Lovelace', email: 'ada@example.org' },
    { lan_id: 'NA\\bob', name: 'Bob', email: 'bob@example.org' },
  ]).execute();
  // Ada: one good enrolment; Bob: a blurred one (LOW_QUALITY) then an unreadable one.
  const trains = [
    { lan_id: 'NA\\ada', capture_time: at('2026-11-30T08:00:00'), image: IMAGE, status: 'Y', result: 'SUCCESS', num_faces: 1 },
    { lan_id: 'NA\\bob', capture_time: at('2026-11-30T08:05:00'), image: IMAGE, status: 'Y', result: 'LOW_QUALITY', num_faces: 1 },
    { lan_id: 'NA\\bob', capture_time: at('2026-11-30T08:06:00'), image: IMAGE, status: 'Y', result: 'INVALID_IMAGE', num_faces: null },
  ];
  const trainIds: number[] = [];
  for (const row of trains) trainIds.push(Number((await db.insertInto('train_img').values(row).executeTakeFirstOrThrow()).insertId));
  await db.insertInto('process_status').values([
    { image_type: 'train', image_id: trainIds[0], status: 'Y', result: 'SUCCESS', detail: '{"faces":[]}', attempt: 1 },
    // Two attempts of the blurred one: the view takes the last.
    { image_type: 'train', image_id: trainIds[1], status: 'P', result: null, detail: '{"error":"DB","message":"first try","retry":true}', attempt: 1 },
    { image_type: 'train', image_id: trainIds[1], status: 'Y', result: 'LOW_QUALITY', detail: '{"reasons":["blurred","too_small"]}', attempt: 2 },
    { image_type: 'train', image_id: trainIds[2], status: 'Y', result: 'INVALID_IMAGE', detail: '{"reason":"not a JPEG or PNG"}', attempt: 1 },
  ]).execute();

  const streams = [
    { lan_id: 'NA\\ada', capture_time: at('2026-11-30T09:10:00'), status: 'Y', result: 'SUCCESS', accuracy: 0.97, distance: 0.3, num_faces: 1, train_img_id: trainIds[0] },
    { lan_id: 'NA\\ada', capture_time: at('2026-11-30T09:20:00'), status: 'Y', result: 'SUCCESS_MULTIPLE_FACES', accuracy: 0.9, distance: 0.35, num_faces: 2, train_img_id: trainIds[0] },
    { lan_id: 'NA\\ada', capture_time: at('2026-11-30T09:40:00'), status: 'Y', result: 'IMPERSONATION_SUSPECTED', accuracy: 0.99, distance: 0.1, num_faces: 1, train_img_id: trainIds[0] },
    { lan_id: 'NA\\ada', capture_time: at('2026-11-30T10:05:00'), status: 'Y', result: 'UNKNOWN_PERSON', accuracy: 0.1, distance: 0.8, num_faces: 1, train_img_id: trainIds[0] },
    { lan_id: 'NA\\ada', capture_time: at('2026-11-30T10:30:00'), status: 'N', result: null, accuracy: null, distance: null, num_faces: null, train_img_id: null },
    { lan_id: 'NA\\bob', capture_time: at('2026-11-30T09:15:00'), status: 'Y', result: 'TRAINING_IMAGE_FAILED', accuracy: null, distance: null, num_faces: null, train_img_id: null },
    // Someone who never enrolled nor is an employee row: still has a latest state.
    { lan_id: 'NA\\eve', capture_time: at('2026-11-30T09:30:00'), status: 'Y', result: 'NO_TRAINING_IMAGE', accuracy: null, distance: null, num_faces: null, train_img_id: null },
  ];
  const streamIds: number[] = [];
  for (const row of streams) streamIds.push(Number((await db.insertInto('stream_img').values({ ...row, image: IMAGE }).executeTakeFirstOrThrow()).insertId));

  const notification = (data: Record<string, unknown>) =>
    JSON.stringify({ channel: 'email', to: ['security@example.org'], template: 't', data, idempotencyKey: `k${Math.random()}` });
  await db.insertInto('face_alert').values([
    { lan_id: 'NA\\ada', stream_img_id: streamIds[2], kind: 'impersonation', state: 'published', published_at: new Date(),
      notification: notification({ kind: 'impersonation', trainImgId: trainIds[0], evidence: [{ streamImgId: streamIds[1], distance: 0.01 }] }) },
    { lan_id: 'NA\\ada', stream_img_id: streamIds[3], kind: 'absence', state: 'pending', notification: notification({ kind: 'absence', streak: 3 }) },
    // A corrupt row must not break the view.
    { lan_id: 'NA\\bob', stream_img_id: streamIds[5], kind: 'absence', state: 'invalid', notification: '{not json' },
  ]).execute();

  await db.insertInto('video_job').values({
    job_key_sha256: 'a'.repeat(64), job_key: 'cam1', source_bucket: 'video-avi', source_key: 'cam1/1511893800.avi', status: 'done', attempts: 1,
    source_seconds: 300, source_bytes: 1_000_000,
    outputs: JSON.stringify({ clips: [{ key: 'a_000.mp4' }, { key: 'a_001.mp4' }, { key: 'a_002.mp4' }], frames: { count: 7 } }),
    frames_kept: 7, frames_black: 2, frames_frozen: 1, frames_blurred: null, total_ms: 12_000,
  }).execute();
}

async function rows(view: string): Promise<Record<string, any>[]> {
  return (await sql<Record<string, any>>`SELECT * FROM ${sql.table(view)}`.execute(db)).rows;
}

test('vigil migrate creates every report view, and no view has an image, descriptor or recipient column', async () => {
  const views = await sql<{ name: string; security: string }>`
    SELECT TABLE_NAME AS name, SECURITY_TYPE AS security FROM information_schema.VIEWS WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME`.execute(db);
  assert.deepEqual(views.rows.map((v) => v.name), VIEWS);
  for (const v of views.rows) assert.equal(v.security, 'DEFINER', v.name);
  const cols = await sql<{ c: string; type: string }>`
    SELECT c.COLUMN_NAME AS c, c.DATA_TYPE AS type FROM information_schema.COLUMNS c
    JOIN information_schema.VIEWS v ON v.TABLE_SCHEMA = c.TABLE_SCHEMA AND v.TABLE_NAME = c.TABLE_NAME
    WHERE c.TABLE_SCHEMA = DATABASE()`.execute(db);
  assert.ok(cols.rows.length > 30);
  for (const { c, type } of cols.rows) {
    assert.doesNotMatch(c, /image$|descriptor|landmark|notification|^to$|email/, c);
    assert.doesNotMatch(type, /blob|binary/, `${c} is ${type}`);
  }
});

test('results per employee per hour count each hour and result', async () => {
  const r = await rows('report_results_per_hour');
  const ada = r.filter((x) => x.lan_id === 'NA\\ada').map((x) => [new Date(x.hour).toISOString().slice(11, 16), x.result, Number(x.snapshots)]);
  assert.deepEqual(ada.sort(), [
    ['09:00', 'IMPERSONATION_SUSPECTED', 1], ['09:00', 'SUCCESS', 1], ['09:00', 'SUCCESS_MULTIPLE_FACES', 1],
    ['10:00', 'UNKNOWN_PERSON', 1], ['10:00', null, 1],
  ].sort());
  assert.ok(r.every((x) => x.lan_id !== 'NA\\ada' || x.employee_name === 'Ada Lovelace'));
  assert.equal(r.reduce((n, x) => n + Number(x.snapshots), 0), 7);
});

test('non-success results are the judged failures, newest first, SUCCESS_MULTIPLE_FACES not among them', async () => {
  const r = await rows('report_non_success_results');
  assert.deepEqual(r.map((x) => x.result), ['NO_TRAINING_IMAGE', 'TRAINING_IMAGE_FAILED', 'UNKNOWN_PERSON', 'IMPERSONATION_SUSPECTED']);
  assert.ok(r.every((x, i) => i === 0 || x.stream_img_id < r[i - 1]!.stream_img_id));
  assert.equal(r.find((x) => x.result === 'UNKNOWN_PERSON')?.result_description?.length > 0, true);
});

test('the latest state has one row per person, with the newest judged snapshot and enrolment', async () => {
  const r = Object.fromEntries((await rows('report_latest_state')).map((x) => [x.lan_id, x]));
  assert.deepEqual(Object.keys(r).sort(), ['NA\\ada', 'NA\\bob', 'NA\\eve']);
  assert.equal(r['NA\\ada']!.last_result, 'UNKNOWN_PERSON', 'the pending one is not judged yet');
  assert.equal(Number(r['NA\\ada']!.snapshots_pending), 1);
  assert.equal(r['NA\\ada']!.enrolment_result, 'SUCCESS');
  assert.equal(r['NA\\bob']!.enrolment_result, 'INVALID_IMAGE', 'the newest enrolment, whatever its result');
  assert.equal(r['NA\\eve']!.employee_name, null);
  assert.equal(r['NA\\eve']!.enrolment_train_img_id, null);
  assert.equal(r['NA\\eve']!.last_result, 'NO_TRAINING_IMAGE');
});

test('enrolment failures carry the reason of their last attempt', async () => {
  const r = await rows('report_enrolment_failures');
  const byResult = Object.fromEntries(r.map((x) => [x.result, x]));
  assert.deepEqual(Object.keys(byResult).sort(), ['INVALID_IMAGE', 'LOW_QUALITY']);
  assert.deepEqual(JSON.parse(byResult.LOW_QUALITY.reason), ['blurred', 'too_small']);
  assert.equal(Number(byResult.LOW_QUALITY.attempts), 2);
  assert.equal(byResult.INVALID_IMAGE.reason, 'not a JPEG or PNG');
  assert.equal(byResult.INVALID_IMAGE.employee_name, 'Bob');
});

test('face alerts list impersonation and absence with their evidence, a corrupt row included', async () => {
  const r = await rows('report_face_alerts');
  assert.equal(r.length, 3);
  const imp = r.find((x) => x.kind === 'impersonation')!;
  assert.equal(imp.result, 'IMPERSONATION_SUSPECTED');
  assert.equal(imp.state, 'published');
  assert.equal(JSON.parse(imp.evidence)[0].distance, 0.01);
  assert.ok(Number(imp.train_img_id) > 0);
  const absence = r.find((x) => x.kind === 'absence' && x.state === 'pending')!;
  assert.equal(Number(absence.streak), 3);
  const corrupt = r.find((x) => x.state === 'invalid')!;
  assert.equal(corrupt.streak, null);
});

test('video jobs show clips and frames kept and dropped', async () => {
  const [job, ...rest] = await rows('report_video_jobs');
  assert.equal(rest.length, 0);
  assert.equal(Number(job!.clips), 3);
  assert.equal(Number(job!.frames_kept), 7);
  assert.equal(Number(job!.frames_dropped), 3);
  assert.equal(job!.status, 'done');
});

/** Runs compose/metabase-grants.sh as it is, with this test's names and password files. */
async function runGrants(): Promise<{ stdout: string; stderr: string }> {
  const target = parseDatabaseUrl(t.config.database.url);
  const rootPw = join(dir, 'root'), readerPw = join(dir, 'reader'), appPw = join(dir, 'app');
  await writeFile(rootPw, `${target.password ?? ''}\n`, { mode: 0o600 });
  await writeFile(readerPw, `${reader.password}\n`, { mode: 0o600 });
  await writeFile(appPw, `${app.password}\n`, { mode: 0o600 });
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    MARIADB_HOST: target.host, MARIADB_PORT: String(target.port), VIGIL_DATABASE: target.database,
    METABASE_DB_USER: reader.user, ROOT_PASSWORD_FILE: rootPw, METABASE_PASSWORD_FILE: readerPw,
    METABASE_APP_DATABASE: app.database, METABASE_APP_DB_USER: app.user, METABASE_APP_PASSWORD_FILE: appPw,
  };
  return promisify(execFile)('sh', [GRANTS_SCRIPT], { env });
}

/** SHOW GRANTS without the password hash. */
async function grantLines(conn: Connection): Promise<string[]> {
  const [grants] = await conn.query('SHOW GRANTS');
  return (grants as Record<string, string>[]).map((g) => Object.values(g)[0]!.replace(/ IDENTIFIED BY PASSWORD '[^']*'/, ''));
}

test('compose/metabase-grants.sh gives a user SELECT on the views and on nothing else', async () => {
  const target = parseDatabaseUrl(t.config.database.url);
  const first = await runGrants();
  assert.match(first.stdout, new RegExp(`may read: ${VIEWS.join(',')}`));
  await runGrants(); // Idempotent: the next `up` runs it again.

  const conn = await createConnection({ host: target.host, port: target.port, user: reader.user, password: reader.password, database: target.database });
  try {
    for (const view of VIEWS) {
      const [result] = await conn.query(`SELECT COUNT(*) AS n FROM \`${view}\``);
      assert.ok(Number((result as { n: number }[])[0]!.n) > 0, view);
    }
    for (const q of ['SELECT image FROM train_img', 'SELECT image FROM stream_img', 'SELECT id FROM employee', 'SELECT detail FROM process_status']) {
      await assert.rejects(conn.query(q), (err: { errno?: number }) => err.errno === 1142, q);
    }
    await assert.rejects(conn.query("UPDATE report_video_jobs SET status = 'x'"), (err: { errno?: number }) => err.errno === 1142);
    const lines = await grantLines(conn);
    assert.ok(lines.every((g) => /^GRANT (USAGE|SELECT) ON /.test(g)), lines.join('\n'));
  } finally {
    await conn.end();
  }
});

test("compose/metabase-grants.sh gives Metabase's application user its own utf8mb4 database, everything there and nothing of vigil's", async () => {
  const target = parseDatabaseUrl(t.config.database.url);
  // Granted more by hand (or an earlier version): the script takes it back.
  await sql`CREATE USER IF NOT EXISTS ${sql.lit(app.user)}@'%' IDENTIFIED BY 'replaced by the script'`.execute(db);
  await sql`GRANT SELECT ON ${sql.id(target.database)}.* TO ${sql.lit(app.user)}@'%'`.execute(db);
  const first = await runGrants();
  assert.match(first.stdout, new RegExp(`^user ${app.user} may do anything in ${app.database} and nothing elsewhere$`, 'm'));
  assert.ok(!`${first.stdout}${first.stderr}`.includes(app.password), 'no password printed');
  await runGrants(); // Idempotent: the next `up` runs it again.

  const schema = await sql<{ cs: string; co: string }>`
    SELECT DEFAULT_CHARACTER_SET_NAME AS cs, DEFAULT_COLLATION_NAME AS co FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ${app.database}`.execute(db);
  assert.deepEqual(schema.rows, [{ cs: 'utf8mb4', co: 'utf8mb4_unicode_ci' }]);

  const conn = await createConnection({ host: target.host, port: target.port, user: app.user, password: app.password, database: app.database });
  try {
    // What Metabase's own migrations do to its schema.
    await conn.query('CREATE TABLE core_user (id int PRIMARY KEY, email varchar(254))');
    await conn.query('ALTER TABLE core_user ADD COLUMN first_name varchar(254)');
    await conn.query('CREATE INDEX idx_core_user_email ON core_user (email)');
    await conn.query("INSERT INTO core_user (id, email) VALUES (1, 'admin@example.org')");
    await conn.query('CREATE VIEW v_users AS SELECT id FROM core_user');
    const [rows] = await conn.query('SELECT COUNT(*) AS n FROM v_users');
    assert.equal(Number((rows as { n: number }[])[0]!.n), 1);
    await conn.query('DROP VIEW v_users');
    await conn.query('DROP TABLE core_user');

    for (const q of ['SELECT id FROM employee', 'SELECT image FROM train_img', ...REPORT_VIEW_NAMES.map((v) => `SELECT * FROM \`${v}\``)]) {
      await assert.rejects(conn.query(q.replace('FROM ', `FROM \`${target.database}\`.`)), (err: { errno?: number }) => err.errno === 1142, q);
    }
    await assert.rejects(conn.query(`USE \`${target.database}\``), (err: { errno?: number }) => err.errno === 1044);
    const escaped = app.database.replaceAll('_', '\\_');
    assert.deepEqual((await grantLines(conn)).sort(), [
      `GRANT ALL PRIVILEGES ON \`${escaped}\`.* TO \`${app.user}\`@\`%\``,
      `GRANT USAGE ON *.* TO \`${app.user}\`@\`%\``,
    ]);
  } finally {
    await conn.end();
  }
});

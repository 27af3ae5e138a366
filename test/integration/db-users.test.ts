// compose/db-users.sh, run as it is: the migrator it makes runs every migration on an empty
// database, the services' user it makes runs a service and `vigil delete-user` but changes
// no schema and reaches no other database, each holds exactly its list, and a re-run applies
// a rotated password and takes back whatever an earlier run granted beyond the lists.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { createConnection, type Connection } from 'mysql2/promise';
import { openDatabase, parseDatabaseUrl } from '../../db/connection.ts';
import { migrationNames } from '../../db/migrate.ts';
import { REPORT_VIEW_NAMES } from '../../db/report-views.ts';
import { loadConfig } from '../../services/config.ts';
import { service as facetraining } from '../../services/facetraining/main.ts';
import { catchUpRollups } from '../../services/upkeep/rollup.ts';
import { databaseCheck } from '../../shared/app/checks/database-check.ts';
import type { RunningApp } from '../../shared/app/run-services.ts';
import { FaceEngine } from '../../shared/face/engine.ts';
import { runCli } from '../helpers/cli.ts';
import { cropFace, nonFaceImages, samplePhoto, sampleSubjects } from '../helpers/face-images.ts';
import { captureLogger, publishRaw, startApp, waitFor } from '../helpers/runtime-harness.ts';
import { createTestEnv, type TestEnv } from '../helpers/test-env.ts';

const SCRIPT = resolve(import.meta.dirname, '../../compose/db-users.sh');
const GRANTS_SCRIPT = resolve(import.meta.dirname, '../../compose/metabase-grants.sh');
/** The lists the script must grant, no more (SHOW GRANTS) and no less (the migrations and the service run). */
const MIGRATOR_PRIVILEGES = ['SELECT', 'INSERT', 'UPDATE', 'CREATE', 'ALTER', 'DROP', 'INDEX', 'REFERENCES', 'CREATE VIEW'];
const SERVICE_PRIVILEGES = ['SELECT', 'INSERT', 'UPDATE', 'DELETE'];

const ER_DBACCESS_DENIED = 1044;
const ER_ACCESS_DENIED = 1045;
const ER_TABLEACCESS_DENIED = 1142;

interface Account {
  user: string;
  password: string;
  file: string;
}

let t: TestEnv;
let dir: string;
let root: Connection;
let target: ReturnType<typeof parseDatabaseUrl>;
/** A database the users must not reach, named so that a grant leaving _ unescaped (a wildcard) would cover it. */
let lookalike: string;
const hex = randomBytes(4).toString('hex');
const secret = (label: string) => `${label}'\\${randomBytes(6).toString('hex')}`;
const service: Account = { user: `vigil_svc_${hex}`, password: secret('svc'), file: '' };
const migrator: Account = { user: `vigil_mig_${hex}`, password: secret('mig'), file: '' };
const reader: Account = { user: `vigil_mbr_${hex}`, password: secret('mbr'), file: '' };
const appUser: Account = { user: `vigil_mba_${hex}`, password: secret('mba'), file: '' };
const appDatabase = `vigil_test_dbusersapp_${hex}`;
/** facetraining as the services' user, while its test runs. */
let running: RunningApp | undefined;

before(async () => {
  // No migration: the script creates the database, and the migrator migrates it.
  t = await createTestEnv('dbusers', {}, { migrate: false });
  target = parseDatabaseUrl(t.config.database.url);
  lookalike = t.databaseName.replace(/_([^_]*)$/, 'x$1');
  dir = await mkdtemp(join(tmpdir(), 'vigil-dbusers-'));
  for (const [name, a] of Object.entries({ service, migrator, reader, appUser })) {
    a.file = join(dir, name);
    await writeFile(a.file, `${a.password}\n`, { mode: 0o600 });
  }
  await writeFile(join(dir, 'root'), `${target.password ?? ''}\n`, { mode: 0o600 });
  root = await createConnection({ host: target.host, port: target.port, user: target.user, password: target.password });
  await root.query(`CREATE DATABASE \`${lookalike}\``);
  await root.query(`CREATE TABLE \`${lookalike}\`.secrets (id int)`);
});

after(async () => {
  await running?.stop();
  for (const a of [service, migrator, reader, appUser]) await root?.query(`DROP USER IF EXISTS '${a.user}'@'%'`).catch(() => undefined);
  for (const name of [lookalike, appDatabase]) if (name) await root?.query(`DROP DATABASE IF EXISTS \`${name}\``).catch(() => undefined);
  await root?.end();
  await rm(dir, { recursive: true, force: true });
  await t.cleanup();
});

function scriptEnv(): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    MARIADB_HOST: target.host, MARIADB_PORT: String(target.port), VIGIL_DATABASE: t.databaseName,
    ROOT_PASSWORD_FILE: join(dir, 'root'),
    VIGIL_DB_USER: service.user, VIGIL_DB_PASSWORD_FILE: service.file,
    MIGRATOR_DB_USER: migrator.user, MIGRATOR_DB_PASSWORD_FILE: migrator.file,
  };
}

const runScript = (env: Record<string, string> = scriptEnv()) => promisify(execFile)('sh', [SCRIPT], { env });

function urlOf(a: Account, password = a.password): string {
  return `mysql://${encodeURIComponent(a.user)}:${encodeURIComponent(password)}@${target.host}:${target.port}/${t.databaseName}`;
}

const connectAs = (a: Account, opts: { password?: string; database?: string | null } = {}) =>
  createConnection({
    host: target.host, port: target.port, user: a.user, password: opts.password ?? a.password,
    ...(opts.database === null ? {} : { database: opts.database ?? t.databaseName }),
  });

async function withConnection<T>(a: Account, fn: (c: Connection) => Promise<T>): Promise<T> {
  const c = await connectAs(a);
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** A connection that opens all the same is closed, or it would keep the test's process alive. */
async function assertLoginRefused(a: Account): Promise<void> {
  const c = await connectAs(a).catch((err: { errno?: number }) => err);
  if ('end' in c && typeof c.end === 'function') {
    await c.end();
    assert.fail(`${a.user}: the old password still logs in`);
  }
  assert.equal((c as { errno?: number }).errno, ER_ACCESS_DENIED, `${a.user}: refused for its password`);
}

/** The user's grants, one entry per level (`*.*`, `` `db`.* ``, a table), each a sorted privilege list; no password hash. */
async function grantsOf(user: string): Promise<Record<string, string[]>> {
  const [rows] = await root.query(`SHOW GRANTS FOR '${user}'@'%'`);
  const out: Record<string, string[]> = {};
  for (const row of rows as Record<string, string>[]) {
    const line = Object.values(row)[0]!;
    const m = /^GRANT (.+?) ON (\S+) TO /.exec(line);
    assert.ok(m, `a grant line of ${user} not understood: ${line.replace(/PASSWORD '[^']*'/, 'PASSWORD <hidden>')}`);
    out[m[2]!] = m[1]!.split(', ').sort();
  }
  return out;
}

function expectedGrants(privileges: string[]): Record<string, string[]> {
  // The database named as a pattern: each _ escaped, so it is not a wildcard.
  return { '*.*': ['USAGE'], [`\`${t.databaseName.replaceAll('_', '\\_')}\`.*`]: [...privileges].sort() };
}

async function assertExactGrants(): Promise<void> {
  assert.deepEqual(await grantsOf(migrator.user), expectedGrants(MIGRATOR_PRIVILEGES), 'the migrator: its list, no more');
  assert.deepEqual(await grantsOf(service.user), expectedGrants(SERVICE_PRIVILEGES), "the services' user: its list, no more");
}

const denied = (errno: number) => (err: { errno?: number }) => err.errno === errno;

test('the script creates the database in utf8mb4 and both users with exactly their lists, and prints no password', async () => {
  const { stdout, stderr } = await runScript();
  assert.match(stdout, new RegExp(`^user ${migrator.user} may change the schema of ${t.databaseName}: ${MIGRATOR_PRIVILEGES.join(', ')}$`, 'm'));
  assert.match(stdout, new RegExp(`^user ${service.user} may read and write the rows of ${t.databaseName}: ${SERVICE_PRIVILEGES.join(', ')}$`, 'm'));
  for (const a of [service, migrator]) {
    for (const s of [a.password, a.password.replaceAll("'", "''")]) assert.ok(!`${stdout}${stderr}`.includes(s), `${a.user}'s password printed`);
  }
  const [schema] = await root.query('SELECT DEFAULT_CHARACTER_SET_NAME AS cs, DEFAULT_COLLATION_NAME AS co FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?', [t.databaseName]);
  assert.deepEqual(schema, [{ cs: 'utf8mb4', co: 'utf8mb4_unicode_ci' }]);
  await assertExactGrants();
});

test('the migrator runs every migration on the empty database through `vigil migrate`, and defines the report views', async () => {
  const env = { ...t.env, DATABASE_URL: urlOf(migrator) };
  const first = await runCli(['migrate', '--json'], env);
  assert.equal(first.code, 0, first.stderr);
  assert.deepEqual(JSON.parse(first.stdout), { database: t.databaseName, createdDatabase: false, applied: migrationNames() });
  const again = await runCli(['migrate', '--json'], env);
  assert.equal(again.code, 0, again.stderr);
  assert.deepEqual(JSON.parse(again.stdout).applied, []);

  const [views] = await root.query('SELECT TABLE_NAME AS name, DEFINER AS definer FROM information_schema.VIEWS WHERE TABLE_SCHEMA = ? ORDER BY TABLE_NAME', [t.databaseName]);
  assert.deepEqual(views, REPORT_VIEW_NAMES.map((name) => ({ name, definer: `${migrator.user}@%` })));
  const [codes] = await root.query(`SELECT COUNT(*) AS n FROM \`${t.databaseName}\`.result_code`);
  assert.ok(Number((codes as { n: number }[])[0]!.n) > 10, 'the result codes synced');
});

test("Metabase's read-only user reads the report views the migrator defined (they run with its rights)", async () => {
  await root.query(`INSERT INTO \`${t.databaseName}\`.stream_img (lan_id, status, result) VALUES ('NA\\\\viewed', 'Y', 'SUCCESS')`);
  await promisify(execFile)('sh', [GRANTS_SCRIPT], {
    env: {
      ...scriptEnv(),
      METABASE_DB_USER: reader.user, METABASE_PASSWORD_FILE: reader.file,
      METABASE_APP_DATABASE: appDatabase, METABASE_APP_DB_USER: appUser.user, METABASE_APP_PASSWORD_FILE: appUser.file,
    },
  });
  // The roll-ups the hourly view reads, counted as the upkeep counts them: as the services' user.
  const asService = openDatabase(urlOf(service), { poolSize: 2 });
  try {
    await catchUpRollups(asService.db);
  } finally {
    await asService.close();
  }
  await withConnection(reader, async (c) => {
    for (const view of REPORT_VIEW_NAMES) await c.query(`SELECT COUNT(*) FROM \`${view}\``);
    const [rows] = await c.query("SELECT snapshots FROM report_results_per_hour WHERE lan_id = 'NA\\\\viewed'");
    assert.deepEqual((rows as { snapshots: number }[]).map((r) => Number(r.snapshots)), [1]);
    await assert.rejects(c.query('SELECT id FROM stream_img'), denied(ER_TABLEACCESS_DENIED));
  });
});

test("the services' user passes the doctor's database check and runs facetraining: enrolments judged, recorded, a descriptor stored", async () => {
  const checks = await databaseCheck(urlOf(service)).run();
  assert.deepEqual(checks.map((c) => [c.name, c.status]), [['database', 'ok'], ['database schema', 'ok']], JSON.stringify(checks));

  const { engine } = await FaceEngine.load('auto');
  const { subject } = await sampleSubjects(engine);
  const face = await cropFace(samplePhoto(6), subject, 0.5);
  const cases: [lanId: string, image: Buffer | null, result: string][] = [
    ['NA\\enrolled', face, 'SUCCESS'],
    ['NA\\nobody', (await nonFaceImages()).gradient!, 'NO_FACES_FOUND'],
    ['NA\\empty', null, 'INVALID_IMAGE'],
  ];
  const db = t.database().db;
  const ids: number[] = [];
  for (const [lanId, image] of cases) ids.push(Number((await db.insertInto('train_img').values({ lan_id: lanId, image }).executeTakeFirstOrThrow()).insertId));

  const { logger } = captureLogger('warn');
  running = await startApp(loadConfig({ ...t.env, DATABASE_URL: urlOf(service), FACE_WORKERS: '1' }), [facetraining], logger);
  try {
    await waitFor('the consumer', () => running!.consumers[0]!.attached, 60_000);
    await publishRaw(`${t.prefix}facetraining`, ids.map(String));
    await waitFor('the enrolments judged', async () => {
      const rows = await db.selectFrom('train_img').select('status').where('id', 'in', ids).execute();
      return rows.every((r) => r.status === 'Y' || r.status === 'F');
    }, 120_000, 250);
  } finally {
    await running.stop();
    running = undefined;
  }
  for (const [i, [lanId, , result]] of cases.entries()) {
    const row = await db.selectFrom('train_img').select(['result']).where('id', '=', ids[i]!).executeTakeFirstOrThrow();
    assert.equal(row.result, result, lanId);
    const attempts = await db.selectFrom('process_status').select('result').where('image_type', '=', 'train').where('image_id', '=', ids[i]!).execute();
    assert.deepEqual(attempts.map((a) => a.result), [result], `${lanId}: one attempt recorded`);
  }
  const descriptors = await db.selectFrom('face_descriptor').select('train_img_id').execute();
  assert.deepEqual(descriptors.map((d) => d.train_img_id), [ids[0]]);

  // delete-user reads the lan_id collation from information_schema, takes the employee lock
  // and deletes across the tables in one transaction.
  const deleted = await runCli(['delete-user', 'na\\ENROLLED', '--json'], { ...t.env, DATABASE_URL: urlOf(service) });
  assert.equal(deleted.code, 0, deleted.stderr);
  assert.deepEqual(JSON.parse(deleted.stdout).spellings, ['NA\\enrolled']);
  assert.equal((await db.selectFrom('face_descriptor').select('id').execute()).length, 0);
});

test("the services' user may not create, alter, drop or truncate, nor reach another database", async () => {
  await withConnection(service, async (c) => {
    for (const q of [
      'CREATE TABLE intruder (id int)',
      'ALTER TABLE employee ADD COLUMN intruder int',
      'DROP TABLE rescue_attempt',
      'TRUNCATE TABLE rescue_attempt',
      'CREATE INDEX intruder ON employee (name)',
      'CREATE VIEW intruder AS SELECT 1 AS one',
      'DROP VIEW report_video_jobs',
      `SELECT * FROM \`${lookalike}\`.secrets`,
    ]) {
      await assert.rejects(c.query(q), denied(ER_TABLEACCESS_DENIED), q);
    }
    for (const q of [`USE \`${lookalike}\``, `CREATE DATABASE \`${lookalike}_more\``, `DROP DATABASE \`${t.databaseName}\``]) {
      await assert.rejects(c.query(q), denied(ER_DBACCESS_DENIED), q);
    }
    await assert.rejects(c.query(`GRANT SELECT ON \`${t.databaseName}\`.* TO '${reader.user}'@'%'`), denied(ER_DBACCESS_DENIED), 'no grant option');
    // What a service does, as a check that the refusals above are not a broken connection.
    await c.query("INSERT INTO employee (lan_id, name) VALUES ('NA\\\\row', 'Row')");
    await c.query("UPDATE employee SET name = 'Row 2' WHERE lan_id = 'NA\\\\row'");
    const [rows] = await c.query("SELECT name FROM employee WHERE lan_id = 'NA\\\\row'");
    assert.deepEqual(rows, [{ name: 'Row 2' }]);
    await c.query("DELETE FROM employee WHERE lan_id = 'NA\\\\row'");
  });
  await withConnection(migrator, async (c) => {
    await assert.rejects(c.query(`SELECT * FROM \`${lookalike}\`.secrets`), denied(ER_TABLEACCESS_DENIED));
    await assert.rejects(c.query(`CREATE DATABASE \`${lookalike}_more\``), denied(ER_DBACCESS_DENIED));
    await assert.rejects(c.query('DELETE FROM result_code'), denied(ER_TABLEACCESS_DENIED), 'the migrator deletes no rows');
  });
});

test('a second run changes nothing, and a changed password file applies: the old password is refused, the new one taken', async () => {
  await runScript();
  await assertExactGrants();
  await withConnection(service, async (c) => c.query('SELECT 1'));

  const rotated = { service: secret('svc2'), migrator: secret('mig2') };
  await writeFile(service.file, `${rotated.service}\n`);
  await writeFile(migrator.file, `${rotated.migrator}\n`);
  await runScript();
  for (const [a, next] of [[service, rotated.service], [migrator, rotated.migrator]] as const) {
    await assertLoginRefused(a);
    const c = await connectAs(a, { password: next });
    await c.end();
    a.password = next;
  }
  await assertExactGrants();
});

test("a re-run while the services work never takes their rights away, even for a moment", async () => {
  await runScript();
  await assertExactGrants();
  const errors: string[] = [];
  let queries = 0;
  let stop = false;
  const c = await connectAs(service);
  const worker = (async () => {
    while (!stop) {
      // A fresh statement each time: privileges are checked per statement.
      await c.query('SELECT COUNT(*) FROM employee').then(() => queries++, (err: { code?: string }) => errors.push(err.code ?? String(err)));
    }
  })();
  try {
    for (let i = 0; i < 5; i++) await runScript();
  } finally {
    stop = true;
    await worker;
    await c.end();
  }
  assert.ok(queries > 20, `only ${queries} queries ran`);
  assert.deepEqual(errors, []);
});

test('one privilege missing, or one extra on a single table, is put right', async () => {
  await root.query(`REVOKE DELETE ON \`${t.databaseName.replaceAll('_', '\\_')}\`.* FROM '${service.user}'@'%'`);
  await root.query(`GRANT ALTER ON \`${t.databaseName}\`.stream_img TO '${migrator.user}'@'%'`);
  assert.notDeepEqual(await grantsOf(service.user), expectedGrants(SERVICE_PRIVILEGES));
  await runScript();
  await assertExactGrants();
});

test('users an earlier run granted more end with their lists only', async () => {
  await root.query(`GRANT ALL PRIVILEGES ON *.* TO '${service.user}'@'%' WITH GRANT OPTION`);
  await root.query(`GRANT ALL PRIVILEGES ON \`${t.databaseName}\`.* TO '${service.user}'@'%'`);
  await root.query(`GRANT DROP ON \`${t.databaseName}\`.employee TO '${service.user}'@'%'`);
  await root.query(`GRANT ALL PRIVILEGES ON \`${t.databaseName}\`.* TO '${migrator.user}'@'%'`);
  await root.query(`GRANT SELECT ON \`${lookalike}\`.* TO '${migrator.user}'@'%'`);
  assert.notDeepEqual(await grantsOf(service.user), expectedGrants(SERVICE_PRIVILEGES));

  await runScript();
  await assertExactGrants();
  await withConnection(service, async (c) => {
    await assert.rejects(c.query('DROP TABLE employee'), denied(ER_TABLEACCESS_DENIED));
    await assert.rejects(c.query('CREATE TABLE intruder (id int)'), denied(ER_TABLEACCESS_DENIED));
  });
});

test('the script fails with a clear message, and no password, when it cannot connect or a password file is empty', async () => {
  const closed = await runScript({ ...scriptEnv(), MARIADB_PORT: '1' }).then(() => undefined, (err: { code?: number; stderr?: string }) => err);
  assert.ok(closed, 'exits non-zero');
  assert.match(closed.stderr ?? '', /^db-users: cannot connect to MariaDB at 127\.0\.0\.1:1 as root: /m);

  const empty = join(dir, 'empty');
  await writeFile(empty, '\n');
  const refused = await runScript({ ...scriptEnv(), VIGIL_DB_PASSWORD_FILE: empty }).then(() => undefined, (err: { code?: number; stderr?: string }) => err);
  assert.ok(refused, 'exits non-zero');
  assert.match(refused.stderr ?? '', /VIGIL_DB_PASSWORD_FILE .* is empty/);
  for (const a of [service, migrator]) assert.ok(!(closed.stderr ?? '').includes(a.password) && !(refused.stderr ?? '').includes(a.password));
  await assertExactGrants();
});

// Issue 22, finding 1: `vigil delete-user` deletes exactly one identity. A lan_id is
// case-insensitive; accents, marks and spaces (trailing ones too) tell people apart; the
// lock it takes is the one the face services take for the same person; and what the
// notifier kept of the person goes with them.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { sql, type Kysely, type KyselyPlugin } from 'kysely';
import type { Database } from '../../db/schema.ts';
import { encodeDescriptor } from '../../db/descriptor.ts';
import { facetrainingRepository, type FacetrainingRepository } from '../../db/repositories/facetraining.repository.ts';
import { operationsRepository } from '../../db/repositories/operations.repository.ts';
import { facetrainingHandler } from '../../services/facetraining/handler.ts';
import { errorCode, errorMessage } from '../../shared/errors.ts';
import { createLockManager } from '../../shared/lock.ts';
import { createLogger } from '../../shared/logger.ts';
import type { Metrics } from '../../shared/metrics.ts';
import type { JobContext } from '../../shared/runtime/consumer.ts';
import { runCli } from '../helpers/cli.ts';
import { createTestEnv, type TestEnv } from '../helpers/test-env.ts';

let t: TestEnv;
let db: Kysely<Database>;

before(async () => {
  t = await createTestEnv('deluserid');
  db = t.database().db;
});
after(async () => {
  await t.cleanup();
});

type Table = 'employee' | 'train_img' | 'stream_img' | 'face_descriptor' | 'snapshot_face' | 'face_alert';
const TABLES: Table[] = ['employee', 'train_img', 'stream_img', 'face_descriptor', 'snapshot_face', 'face_alert'];

/** One row in each table but employee, spelled `lanId`; an employee row too when `employee`. */
async function seed(lanId: string, opts: { employee?: boolean } = {}): Promise<void> {
  if (opts.employee ?? true) await db.insertInto('employee').values({ lan_id: lanId, name: 'Someone' }).execute();
  const train = Number((await db.insertInto('train_img').values({ lan_id: lanId, status: 'Y', result: 'SUCCESS', image: Buffer.from('t') }).executeTakeFirstOrThrow()).insertId);
  await db.insertInto('face_descriptor').values({ train_img_id: train, lan_id: lanId, model: 'm', descriptor: encodeDescriptor(new Float32Array(128)), box: '{}', score: 0.9, quality: '{}' }).execute();
  const stream = Number((await db.insertInto('stream_img').values({ lan_id: lanId, status: 'Y', result: 'SUCCESS', image: Buffer.from('s') }).executeTakeFirstOrThrow()).insertId);
  await db.insertInto('snapshot_face').values({ stream_img_id: stream, lan_id: lanId, capture_time: new Date(), image_sha256: 'a'.repeat(64), matched: 1, descriptor: null, landmarks: null }).execute();
  await db.insertInto('process_status').values({ image_type: 'stream', image_id: stream, status: 'Y', attempt: 1, started_at: new Date() }).execute();
  await db.insertInto('face_alert').values({ lan_id: lanId, stream_img_id: stream, kind: 'impersonation', state: 'published', notification: '{}' }).execute();
}

/** Rows per table whose lan_id is byte for byte `lanId`. */
async function rowsSpelled(lanId: string): Promise<Record<Table, number>> {
  const out = {} as Record<Table, number>;
  for (const table of TABLES) {
    const r = await db
      .selectFrom(table as 'employee')
      .select(sql<number>`COUNT(*)`.as('n'))
      .where(sql<boolean>`CAST(${sql.ref('lan_id')} AS BINARY) = CAST(${lanId} AS BINARY)`)
      .executeTakeFirstOrThrow();
    out[table] = Number(r.n);
  }
  return out;
}

const none: Record<Table, number> = { employee: 0, train_img: 0, stream_img: 0, face_descriptor: 0, snapshot_face: 0, face_alert: 0 };
const seeded = (employee: number): Record<Table, number> => ({ employee, train_img: 1, stream_img: 1, face_descriptor: 1, snapshot_face: 1, face_alert: 1 });

test("delete-user josé removes the rows of josé, José and JOSÉ only: jose, JOSE and 'jose ' stay", async () => {
  await seed('josé');
  await seed('José', { employee: false });
  await seed('JOSÉ', { employee: false });
  // No employee rows for these: the old collation's unique index took them for josé.
  await seed('jose', { employee: false });
  await seed('JOSE', { employee: false });
  await seed('jose ', { employee: false });

  const r = await runCli(['delete-user', 'josé', '--json'], t.env);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { lanId: string; removed: Record<string, number>; spellings: string[] };
  assert.equal(out.lanId, 'josé');
  assert.deepEqual(out.removed, { employee: 1, trainImages: 3, streamImages: 3, descriptors: 3, snapshotFaces: 3, alerts: 3, processStatus: 3, notifications: 0, streamFaces: 0, galleryDecisions: 0 });
  assert.deepEqual(out.spellings, ['JOSÉ', 'José', 'josé']);

  for (const gone of ['josé', 'José', 'JOSÉ']) assert.deepEqual(await rowsSpelled(gone), none, `${gone}: removed`);
  assert.deepEqual(await rowsSpelled('jose'), seeded(0), 'jose stays');
  assert.deepEqual(await rowsSpelled('JOSE'), seeded(0), 'JOSE stays');
  assert.deepEqual(await rowsSpelled('jose '), seeded(0), "'jose ' stays");
  // The identity rule lets jose and 'jose ' be employees beside josé now.
  await db.insertInto('employee').values([{ lan_id: 'jose' }, { lan_id: 'jose ' }, { lan_id: 'josé' }]).execute();
});

test('delete-user of a name no table holds refuses with LAN_ID_UNKNOWN and deletes nothing', async () => {
  await seed('NA\\kept');
  const before = await rowsSpelled('NA\\kept');
  for (const name of ['NA\\nobody', 'NA\\képt', 'NA\\kept ']) {
    const r = await runCli(['delete-user', name, '--json'], t.env);
    assert.notEqual(r.code, 0, `${name}: ${r.stdout}`);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /no row of any table has the lan_id .*nothing deleted \(LAN_ID_UNKNOWN\)/);
  }
  assert.deepEqual(await rowsSpelled('NA\\kept'), before);

  const ctl = await runCli(['delete-user', 'NA\\kept\r'], t.env);
  assert.notEqual(ctl.code, 0);
  assert.match(ctl.stderr, /LAN_ID_INVALID/);
  assert.deepEqual(await rowsSpelled('NA\\kept'), before);
});

test('delete-user refuses an ambiguous name (NFC and NFD spellings, an invisible character) and --exact deletes one spelling only', async () => {
  const nfc = 'zo\u00eb';
  const nfd = 'zoe\u0308';
  const hidden = 'z\u00adoë';
  await seed(nfc);
  await seed(nfd, { employee: false });
  await seed(hidden, { employee: false });

  const r = await runCli(['delete-user', nfc], t.env);
  assert.notEqual(r.code, 0, r.stdout);
  assert.match(r.stderr, /spelled 3 ways that differ by more than letter case: .*nothing deleted.*--exact.*\(LAN_ID_AMBIGUOUS\)/);
  for (const s of ['"zo\\u00eb"', '"zoe\\u0308"', '"z\\u00ado\\u00eb"']) assert.ok(r.stderr.includes(s), `${s} listed: ${r.stderr}`);
  for (const s of [nfc, nfd, hidden]) assert.deepEqual(await rowsSpelled(s), seeded(s === nfc ? 1 : 0), `${JSON.stringify(s)}: untouched`);

  const exact = await runCli(['delete-user', nfd, '--exact', '--json'], t.env);
  assert.equal(exact.code, 0, exact.stderr);
  assert.deepEqual(JSON.parse(exact.stdout).spellings, [nfd]);
  assert.deepEqual(await rowsSpelled(nfd), none);
  assert.deepEqual(await rowsSpelled(nfc), seeded(1), 'the NFC spelling stays');
  assert.deepEqual(await rowsSpelled(hidden), seeded(0), 'the spelling with a soft hyphen stays');
});

/**
 * Holds the employee lock exactly as facetraining takes it for one train_img: the handler
 * runs until it opens its attempt under the lock, and waits there until `release`.
 */
async function facetrainingHoldsLock(lanId: string): Promise<{ release: () => void; done: Promise<unknown> }> {
  const train = Number((await db.insertInto('train_img').values({ lan_id: lanId, status: 'N', image: Buffer.from('t') }).executeTakeFirstOrThrow()).insertId);
  const base = facetrainingRepository(db);
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let held!: () => void;
  const heldNow = new Promise<void>((r) => (held = r));
  const repo: FacetrainingRepository = {
    ...base,
    async startAttempt(a) {
      held();
      await gate;
      return base.startAttempt(a);
    },
  };
  const handle = facetrainingHandler({
    repo,
    // The analysis fails (no face engine here): the attempt is opened under the lock all the same, and released saying why.
    faces: { info: { model: 'test' } as never, analyze: async () => Promise.reject(new Error('no face engine in this test')) },
    locks: createLockManager({ db: t.database().db, namespace: t.databaseName }),
    bounds: t.config.face.quality,
    // Never reached: the analysis fails first.
    duplicates: { check: async () => ({ bound: 0.65, faces: 0, ms: 0 }) },
    metrics: { faceResultsTotal: { inc: () => undefined } } as unknown as Pick<Metrics, 'faceResultsTotal'>,
    worker: 'test:1',
  });
  const ctx: JobContext = { log: createLogger({ level: 'silent' }), attempt: 1, redelivered: false, messageId: undefined, signal: new AbortController().signal };
  const done = handle({ id: train }, ctx).catch((err: unknown) => err);
  await heldNow;
  return { release, done };
}

test("while facetraining holds ann's lock, delete-user ANN waits for it, and delete-user ÁNN deletes nothing of ann", async () => {
  await seed('ann');
  const before = await rowsSpelled('ann');
  const holder = await facetrainingHoldsLock('ann');
  try {
    const upper = await runCli(['delete-user', 'ANN'], { ...t.env, VIGIL_LOCK_TIMEOUT: '1s' });
    assert.notEqual(upper.code, 0, `ANN went ahead under ann's lock: ${upper.stdout}`);
    assert.match(upper.stderr, /not acquired within 1000 ms/);
    assert.deepEqual(await rowsSpelled('ann'), { ...before, train_img: before.train_img + 1 }, 'nothing of ann deleted while her lock is held');

    const accented = await runCli(['delete-user', 'ÁNN'], { ...t.env, VIGIL_LOCK_TIMEOUT: '1s' });
    assert.notEqual(accented.code, 0, accented.stdout);
    assert.match(accented.stderr, /LAN_ID_UNKNOWN/, 'ÁNN is another identity: its own lock, and no rows');
  } finally {
    holder.release();
    await holder.done;
  }
  const after = await runCli(['delete-user', 'ANN', '--json'], t.env);
  assert.equal(after.code, 0, after.stderr);
  assert.deepEqual(await rowsSpelled('ann'), none, 'once the lock is free, ANN is ann');
});

test('the lock is the one the server weighs: while facetraining holds the lock of NA\\tsa, delete-user NA\\ƾa (U+01BE, which the collation weighs as ts) waits', async () => {
  // The lock key of a JS fold of the name told these apart (ƾ stays ƾ), while every lan_id
  // column holds them equal: delete-user went ahead under the face service's lock.
  await seed('NA\\tsa');
  const before = await rowsSpelled('NA\\tsa');
  const holder = await facetrainingHoldsLock('NA\\tsa');
  try {
    const r = await runCli(['delete-user', 'NA\\\u01bea'], { ...t.env, VIGIL_LOCK_TIMEOUT: '1s' });
    assert.notEqual(r.code, 0, `NA\\ƾa went ahead under NA\\tsa's lock: ${r.stdout}`);
    assert.match(r.stderr, /not acquired within 1000 ms/);
    assert.deepEqual(await rowsSpelled('NA\\tsa'), { ...before, train_img: before.train_img + 1 }, 'nothing deleted while the lock is held');
  } finally {
    holder.release();
    await holder.done;
  }
  const after = await runCli(['delete-user', 'NA\\\u01bea', '--json'], t.env);
  assert.equal(after.code, 0, after.stderr);
  assert.deepEqual(JSON.parse(after.stdout).spellings, ['NA\\tsa'], 'the collation holds NA\\ƾa and NA\\tsa one identity');
});

/** Runs `afterSelect` once, right after the first SELECT on `table` (from another connection: committed). */
function afterFirstSelectOn(table: string, afterSelect: () => Promise<void>): KyselyPlugin {
  const watched = new WeakSet<object>();
  let fired = false;
  return {
    transformQuery({ node, queryId }) {
      if (node.kind === 'SelectQueryNode' && JSON.stringify(node.from).includes(`"${table}"`)) watched.add(queryId);
      return node;
    },
    async transformResult({ result, queryId }) {
      if (!fired && watched.has(queryId)) {
        fired = true;
        await afterSelect();
      }
      return result;
    },
  };
}

test('a row written while delete-user deletes: refused, nothing deleted, and the message names LAN_ID_CHANGED', async () => {
  await seed('NA\\racy');
  const before = await rowsSpelled('NA\\racy');
  const stream = await db.selectFrom('stream_img').select('id').where('lan_id', '=', 'NA\\racy').executeTakeFirstOrThrow();
  // After the last look, before the delete: an alert for the same person lands.
  const racing = db.withPlugin(
    afterFirstSelectOn('face_alert', async () => {
      await t.database().db.insertInto('face_alert').values({ lan_id: 'na\\RACY', stream_img_id: stream.id, kind: 'absence', state: 'pending', notification: '{}' }).execute();
    }),
  );
  const err = await operationsRepository(racing).deleteEmployee('NA\\racy').then(
    () => assert.fail('deleted although a row changed'),
    (e: unknown) => e,
  );
  assert.equal(errorCode(err), 'LAN_ID_CHANGED');
  // `vigil` prints the message: the operator reads the code there, as with the other refusals.
  assert.match(errorMessage(err), /nothing deleted, run it again \(LAN_ID_CHANGED\)$/);
  assert.deepEqual(await rowsSpelled('NA\\racy'), before, 'the transaction rolled back');
});

test("delete-user scrubs the employee's notifications down to key and status; other people's stay whole", async () => {
  const note = async (lanId: string, status: 'sent' | 'folded') => {
    const key = `face-impersonation-${randomBytes(6).toString('hex')}`;
    const data = { lanId, streamImgId: 7, captureTime: '2026-12-01T08:00:00.000Z', trainImgId: 3 };
    const id = Number(
      (
        await db
          .insertInto('notification')
          .values({
            key_sha256: key.padEnd(64, '0').slice(0, 64), idempotency_key: key, key_source: 'producer', channel: 'email',
            recipients: JSON.stringify(['guard@example.org']), delivered_to: JSON.stringify(['guard@example.org']), folded_to: status === 'folded' ? JSON.stringify(['boss@example.org']) : null,
            template: 'face_impersonation', data: JSON.stringify(data), status, message_id: `<${key}@vigil>`, provider_response: '250 ok',
          })
          .executeTakeFirstOrThrow()
      ).insertId,
    );
    return id;
  };
  await seed('NA\\Gone');
  const mine = [await note('na\\gone', 'sent'), await note('NA\\GONE', 'folded')];
  const theirs = [await note('NA\\göne', 'sent'), await note('NA\\gone ', 'sent')];

  const r = await runCli(['delete-user', 'NA\\gone', '--json'], t.env);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).removed.notifications, 2);

  const rows = await db.selectFrom('notification').selectAll().where('id', 'in', [...mine, ...theirs]).orderBy('id').execute();
  const byId = new Map(rows.map((x) => [Number(x.id), x]));
  for (const id of mine) {
    const x = byId.get(id)!;
    assert.deepEqual(
      { idempotency_key: x.idempotency_key, recipients: x.recipients, data: x.data, provider_response: x.provider_response, delivered_to: x.delivered_to },
      { idempotency_key: '', recipients: '[]', data: null, provider_response: null, delivered_to: '[]' },
      `notification ${id} keeps nothing of the person`,
    );
    assert.ok(['sent', 'folded'].includes(x.status) && x.key_sha256.length === 64, 'key and status stay, so a redelivered copy is still a duplicate');
    assert.ok(!JSON.stringify(x).toLowerCase().includes('gone') && !JSON.stringify(x).includes('example.org'));
  }
  for (const id of theirs) assert.match(byId.get(id)!.data ?? '', /"lanId"/, `notification ${id} is someone else's and stays whole`);
});

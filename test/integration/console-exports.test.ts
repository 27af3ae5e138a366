// The console's exports page (issue 28): the face export `vigil export faces` writes, streamed
// as a download through `app.inject` on the real MariaDB, read back with yauzl; its audit
// rows; and a download that fails half-way, over real HTTP, cut off rather than finished.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance } from 'fastify';
import { listAudit } from '../../db/repositories/audit.repository.ts';
import { faceExportRepository, type FaceExportRepository } from '../../db/repositories/face-export.repository.ts';
import type { ResultCode } from '../../shared/contract/result-codes.ts';
import { cropFaces } from '../../shared/gallery/face-crop.ts';
import { createLogger } from '../../shared/logger.ts';
import { buildConsoleApp } from '../../services/console/app.ts';
import { parseExportQuery } from '../../services/console/exports.ts';
import { addConsoleAccounts, consoleClient, INLINE_CODE, type ConsoleClient, type SignedIn } from '../helpers/console-client.ts';
import { createTestEnv, type TestEnv } from '../helpers/test-env.ts';
import { parseCsv, readZip } from '../helpers/zip-archive.ts';

const PHOTO = readFileSync(new URL('../fixtures/faces/img17.jpg', import.meta.url)); // 1000×541
const OTHER = readFileSync(new URL('../fixtures/faces/img5.jpg', import.meta.url));
const XSS = '<script>alert(1)</script>';
const HOUR = 3_600_000;
const INSIDE = { x: 100, y: 80, width: 120, height: 160 };
const SMALL = { x: 41, y: 52, width: 103, height: 124 };
const dir = mkdtempSync(join(tmpdir(), 'vigil-console-export-'));
let t: TestEnv;
let app: FastifyInstance;
let c: ConsoleClient;
let viewer: SignedIn;
let supervisor: SignedIn;
const ids = {} as Record<'ada' | 'two' | 'stranger' | 'empty' | 'old', number>;
const db = () => t.database().db;

async function snapshot(s: { lanId: string; ago: number; result: ResultCode; image?: Buffer; faces?: (typeof INSIDE)[] }): Promise<number> {
  const faces = s.faces ?? [];
  const r = await db().insertInto('stream_img').values({
    lan_id: s.lanId, capture_time: new Date(Math.floor((Date.now() - s.ago) / 1000) * 1000), image: s.image ?? PHOTO, status: 'Y', result: s.result, distance: 0.41, accuracy: 0.93, num_faces: faces.length,
  }).executeTakeFirstOrThrow();
  const id = Number(r.insertId);
  for (const [i, box] of faces.entries()) {
    await db().insertInto('stream_face').values({
      stream_img_id: id, face_index: i, lan_id: s.lanId, box: JSON.stringify(box), score: 0.9, landmarks: null,
      quality: JSON.stringify({ sharpness: 0.5 }), model: 'ssd-mobilenet', descriptor: Buffer.alloc(512, 1),
    }).execute();
  }
  return id;
}

before(async () => {
  t = await createTestEnv('consoleexports');
  await addConsoleAccounts(db(), [['vera', 'viewer'], ['sam', 'supervisor']]);
  app = await buildConsoleApp({ db: db(), config: t.config.console, logger: createLogger({ level: 'silent' }) });
  await app.ready();
  c = consoleClient(app, '10.46.0.');
  viewer = await c.signIn('vera');
  supervisor = await c.signIn('sam');
  ids.ada = await snapshot({ lanId: 'ada', ago: 5 * HOUR, result: 'SUCCESS', faces: [INSIDE] });
  ids.two = await snapshot({ lanId: 'bob', ago: 4 * HOUR, result: 'SUCCESS_MULTIPLE_FACES', image: OTHER, faces: [SMALL, INSIDE] });
  ids.stranger = await snapshot({ lanId: XSS, ago: 3 * HOUR, result: 'UNKNOWN_PERSON', faces: [INSIDE] });
  ids.empty = await snapshot({ lanId: 'ada', ago: 2 * HOUR, result: 'NO_FACES_FOUND', image: OTHER });
  ids.old = await snapshot({ lanId: 'ada', ago: 3 * 24 * HOUR, result: 'UNKNOWN_PERSON', faces: [INSIDE] });
});

after(async () => {
  await app?.close();
  rmSync(dir, { recursive: true, force: true });
  await t.cleanup();
});

/** The download written to a file and read back by yauzl. */
async function unzip(body: Buffer, name: string) {
  const path = join(dir, name);
  writeFileSync(path, body);
  return readZip(path);
}

test('the exports page: two GET forms for a supervisor, 403 for a viewer, a sign-in without a session', async () => {
  const page = await c.get('/exports', supervisor);
  assert.equal(page.statusCode, 200, page.body);
  assert.doesNotMatch(page.body, INLINE_CODE);
  assert.equal([...page.body.matchAll(/<form method="get" action="\/exports\/faces\.zip"/g)].length, 2);
  assert.match(page.body, /<input type="hidden" name="refused" value="1">/);
  assert.match(page.body, /name="days" min="1" max="90"/);
  assert.equal((await c.get('/exports', viewer)).statusCode, 403);
  assert.equal((await c.get('/exports/faces.zip?days=7', viewer)).statusCode, 403);
  const anon = await c.get('/exports', null);
  assert.equal(anon.statusCode, 303);
  assert.match(String(anon.headers.location), /^\/login\?next=/);
  assert.equal((await c.get('/exports/faces.zip?days=7', null, 'application/zip')).statusCode, 401);
});

test('faces of the last day: a ZIP download with the crops of the snapshots, as the shared export cuts them, and faces.csv/faces.jsonl', async () => {
  const r = await c.get('/exports/faces.zip?days=1', supervisor);
  assert.equal(r.statusCode, 200, r.body);
  assert.equal(r.headers['content-type'], 'application/zip');
  const today = new Date().toISOString().slice(0, 10);
  assert.equal(r.headers['content-disposition'], `attachment; filename="vigil-faces-${today}-1d.zip"`);
  assert.equal(r.headers['cache-control'], 'private, no-store');
  const zip = await unzip(r.rawPayload, 'day.zip');
  const crops = [`faces/${ids.ada}-0.jpg`, `faces/${ids.two}-0.jpg`, `faces/${ids.two}-1.jpg`, `faces/${ids.stranger}-0.jpg`];
  assert.deepEqual(zip.names, [...crops, 'faces.csv', 'faces.jsonl'], 'the old snapshot and the one without faces are not in it');
  // The very crops face-crop.ts cuts from the inserted images and boxes.
  const expected = [
    (await cropFaces(PHOTO, [{ index: 0, box: INSIDE }])).get(0),
    ...(await cropFaces(OTHER, [{ index: 0, box: SMALL }, { index: 1, box: INSIDE }])).values(),
    (await cropFaces(PHOTO, [{ index: 0, box: INSIDE }])).get(0),
  ];
  crops.forEach((name, i) => assert.ok(zip.files.get(name)!.equals(expected[i]!), name));
  const csv = parseCsv(zip.files.get('faces.csv')!.toString('utf8'));
  assert.deepEqual(csv.slice(1).map((l) => [Number(l[0]), l[1], l[2], l[11]]), [
    [ids.ada, '0', 'ada', crops[0]], [ids.two, '0', 'bob', crops[1]], [ids.two, '1', 'bob', crops[2]], [ids.stranger, '0', XSS, crops[3]],
  ]);
  const jsonl = zip.files.get('faces.jsonl')!.toString('utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as { snapshotId: number; box: unknown });
  assert.deepEqual(jsonl.map((j) => [j.snapshotId, j.box]), [[ids.ada, INSIDE], [ids.two, SMALL], [ids.two, INSIDE], [ids.stranger, INSIDE]]);

  // One audit row, with the options and the counts.
  const rows = await listAudit(db(), { actor: 'sam', action: 'console.export', limit: 10 });
  assert.equal(rows.length, 1);
  assert.deepEqual({ ...(rows[0]!.after as object), since: undefined }, { days: 1, refused: false, lanId: null, since: undefined, snapshots: 3, faces: 4, bytes: r.rawPayload.length });
  assert.equal(rows[0]!.subject, 'faces.zip');
});

test('refused and unusable, of one employee: the refused snapshots, those without a face too', async () => {
  const r = await c.get('/exports/faces.zip?days=2&refused=1&lan_id=ada', supervisor);
  assert.equal(r.statusCode, 200, r.body);
  assert.match(String(r.headers['content-disposition']), /filename="vigil-faces-\d{4}-\d\d-\d\d-2d-refused\.zip"$/);
  const zip = await unzip(r.rawPayload, 'refused.zip');
  assert.deepEqual(zip.names, ['faces.csv', 'faces.jsonl']);
  const csv = parseCsv(zip.files.get('faces.csv')!.toString('utf8')).slice(1);
  assert.deepEqual(csv.map((l) => [Number(l[0]), l[9]]), [[ids.empty, 'NO_FACES_FOUND']]);
  const all = await unzip((await c.get(`/exports/faces.zip?days=90&refused=1`, supervisor)).rawPayload, 'refused-all.zip');
  assert.deepEqual(all.names, [`faces/${ids.old}-0.jpg`, `faces/${ids.stranger}-0.jpg`, 'faces.csv', 'faces.jsonl']);
  const audit = await listAudit(db(), { actor: 'sam', action: 'console.export', lanId: 'ada', limit: 10 });
  assert.equal(audit.length, 1);
  assert.deepEqual((audit[0]!.after as { refused: boolean; lanId: string; snapshots: number }).refused, true);
});

test('a bad number of days, a bad refused or lan_id answers 400 saying why, and nothing is audited', async () => {
  const before = (await listAudit(db(), { limit: 1000 })).length;
  for (const [q, says] of [
    ['', /days must be a whole number of days from 1 to 90/], ['days=0', /days must be/], ['days=91', /days must be/], ['days=7.5', /days must be/],
    ['days=-1', /days must be/], ['days=1e1', /days must be/], ['days=7&days=8', /days must be/], ['days=7&refused=yes', /refused must be 1/],
    [`days=7&lan_id=${'x'.repeat(129)}`, /lan_id must be/], ['days=7&lan_id=a%00b', /lan_id must be/], ['days=7&lan_id=a&lan_id=b', /lan_id must be/],
  ] as const) {
    const r = await c.get(`/exports/faces.zip?${q}`, supervisor);
    assert.equal(r.statusCode, 400, q);
    assert.match(r.body, says, q);
    assert.equal(r.headers['content-disposition'], undefined, q);
  }
  assert.equal((await listAudit(db(), { limit: 1000 })).length, before);
  assert.deepEqual(parseExportQuery({ days: '90', lan_id: '' }), { days: 90, refused: false, lanId: undefined });
});

/** The real reads, but `image` is slow from the call given on (so the first bytes have gone out), then fails or not. */
function slowRepo(from: number, fail: boolean): FaceExportRepository {
  const real = faceExportRepository(db());
  let calls = 0;
  return {
    snapshotPage: (...a) => real.snapshotPage(...a),
    async image(id) {
      if (++calls >= from) {
        await sleep(200);
        if (fail) throw Object.assign(new Error('the database went away'), { code: 'PROTOCOL_CONNECTION_LOST' });
      }
      return real.image(id);
    },
  };
}

/** The export's audit rows of that outcome, once written (after the download has ended). */
async function auditedFailures(since: number): Promise<Awaited<ReturnType<typeof listAudit>>> {
  for (let i = 0; i < 50; i++) {
    const rows = (await listAudit(db(), { action: 'console.export_failed', limit: 10 })).filter((r) => r.id > since);
    if (rows.length > 0) return rows;
    await sleep(50);
  }
  return [];
}

const lastAuditId = async () => (await listAudit(db(), { limit: 1 }))[0]?.id ?? 0;

test('an export failing half-way cuts the download off (never a complete-looking file), and is audited as failed', async () => {
  const failing = await buildConsoleApp({ db: db(), config: t.config.console, logger: createLogger({ level: 'silent' }), faceExports: slowRepo(2, true) });
  try {
    const mark = await lastAuditId();
    const address = await failing.listen({ port: 0, host: '127.0.0.1' });
    const who = await consoleClient(failing, '10.46.1.').signIn('sam');
    const res = await fetch(`${address}/exports/faces.zip?days=1`, { headers: { cookie: `vigil_session=${who.session}` } });
    assert.equal(res.status, 200, 'the headers went out with the first crop');
    await assert.rejects(res.arrayBuffer(), 'the body ends without its last chunk: the download fails');
    const failed = await auditedFailures(mark);
    assert.equal(failed.length, 1);
    assert.equal(failed[0]!.actor, 'sam');
    assert.equal((failed[0]!.after as { error: string }).error, 'PROTOCOL_CONNECTION_LOST');
  } finally {
    await failing.close();
  }
  // Failing before the first byte: a plain 500, no attachment.
  const early = await buildConsoleApp({ db: db(), config: t.config.console, logger: createLogger({ level: 'silent' }), faceExports: slowRepo(1, true) });
  try {
    const cc = consoleClient(early, '10.46.2.');
    const who = await cc.signIn('sam');
    const mark = await lastAuditId();
    const r = await cc.get('/exports/faces.zip?days=1', who);
    assert.equal(r.statusCode, 500);
    assert.equal(r.headers['content-disposition'], undefined);
    assert.match(r.body, /The export failed before anything was sent/);
    assert.doesNotMatch(r.body, /database went away/);
    const failed = await auditedFailures(mark);
    assert.equal((failed[0]!.after as { error: string }).error, 'PROTOCOL_CONNECTION_LOST');
  } finally {
    await early.close();
  }
});

test('a client that goes away mid-download stops the export, which is audited as failed by a premature close', async () => {
  const slow = await buildConsoleApp({ db: db(), config: t.config.console, logger: createLogger({ level: 'silent' }), faceExports: slowRepo(2, false) });
  try {
    const mark = await lastAuditId();
    const address = await slow.listen({ port: 0, host: '127.0.0.1' });
    const who = await consoleClient(slow, '10.46.3.').signIn('sam');
    const abort = new AbortController();
    const res = await fetch(`${address}/exports/faces.zip?days=1`, { headers: { cookie: `vigil_session=${who.session}` }, signal: abort.signal });
    assert.equal(res.status, 200);
    abort.abort();
    const failed = await auditedFailures(mark);
    assert.equal(failed.length, 1);
    assert.equal((failed[0]!.after as { error: string }).error, 'ERR_STREAM_PREMATURE_CLOSE');
    assert.equal((await listAudit(db(), { action: 'console.export', limit: 100 })).filter((r) => r.id > mark).length, 0, 'not audited as done');
  } finally {
    await slow.close();
  }
});

test('two exports run at once per console; a third answers 429 with Retry-After until one has ended', async () => {
  const slow = await buildConsoleApp({ db: db(), config: t.config.console, logger: createLogger({ level: 'silent' }), faceExports: slowRepo(1, false) });
  try {
    const address = await slow.listen({ port: 0, host: '127.0.0.1' });
    const who = await consoleClient(slow, '10.46.4.').signIn('sam');
    const headers = { cookie: `vigil_session=${who.session}` };
    const running = await Promise.all([1, 2].map(() => fetch(`${address}/exports/faces.zip?days=1`, { headers })));
    assert.deepEqual(running.map((r) => r.status), [200, 200]);
    const third = await fetch(`${address}/exports/faces.zip?days=1`, { headers });
    assert.equal(third.status, 429);
    assert.equal(third.headers.get('retry-after'), '30');
    await third.text();
    for (const r of running) await r.arrayBuffer();
    let after = 0;
    for (let i = 0; i < 50 && after !== 200; i++) {
      const r = await fetch(`${address}/exports/faces.zip?days=1`, { headers });
      after = r.status;
      await r.arrayBuffer();
      if (after !== 200) await sleep(50);
    }
    assert.equal(after, 200, 'an export is taken again once the others have ended');
  } finally {
    await slow.close();
  }
});

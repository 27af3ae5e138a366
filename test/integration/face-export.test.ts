import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import sharp from 'sharp';
import { createTestEnv, type TestEnv } from '../helpers/test-env.ts';
import { runCli } from '../helpers/cli.ts';
import { encodeDescriptor, encodeLandmarks } from '../../db/descriptor.ts';
import { faceExportRepository, type FaceExportRepository } from '../../db/repositories/face-export.repository.ts';
import type { ResultCode } from '../../shared/contract/result-codes.ts';
import { writeFaceExport } from '../../shared/gallery/face-export.ts';
import { parseCsv, readZip } from '../helpers/zip-archive.ts';

let t: TestEnv;
const dir = mkdtempSync(join(tmpdir(), 'vigil-face-export-test-'));
const photo = readFileSync(new URL('../fixtures/faces/img17.jpg', import.meta.url)); // 1000×541
let sideways: Buffer; // the same photo stored turned, with the EXIF tag that turns it upright

const DAY = 24 * 3600_000;
const ago = (ms: number) => new Date(Math.floor((Date.now() - ms) / 1000) * 1000);
type Box = { x: number; y: number; width: number; height: number };

/** 68 landmark points inside the box, at values float32 keeps exactly. */
const landmarksIn = (b: Box) => Array.from({ length: 68 }, (_, i) => ({ x: b.x + (i % 17) * 2.5, y: b.y + Math.floor(i / 17) * 10.25 }));

async function snapshot(s: { lanId: string; captured: Date; result: ResultCode | null; image?: Buffer | null; faces?: Box[] }): Promise<number> {
  const db = t.database().db;
  const faces = s.faces ?? [];
  const id = Number(
    (
      await db
        .insertInto('stream_img')
        .values({ lan_id: s.lanId, capture_time: s.captured, image: s.image === undefined ? photo : s.image, status: s.result ? 'Y' : 'N', result: s.result, distance: s.result ? 0.41 : null, accuracy: s.result ? 0.93 : null, num_faces: faces.length })
        .executeTakeFirstOrThrow()
    ).insertId,
  );
  for (const [i, box] of faces.entries()) {
    await db
      .insertInto('stream_face')
      .values({
        stream_img_id: id,
        face_index: i,
        lan_id: s.lanId,
        box: JSON.stringify(box),
        score: 0.875 - i / 8,
        landmarks: encodeLandmarks(landmarksIn(box)),
        quality: JSON.stringify({ sharpness: 0.5, brightness: 120 }),
        model: 'face-api/1.7.15',
        descriptor: encodeDescriptor(Array.from({ length: 128 }, (_, k) => k / 128)),
      })
      .execute();
  }
  return id;
}


const FORMULA = "=cmd|' /C calc'!A0";
const QUOTED = 'NA\\o"brien, pat';
const ids = {} as Record<'formula' | 'two' | 'stranger' | 'empty' | 'invalid' | 'retained' | 'pending' | 'old', number>;
// Boxes in upright pixels: one well inside (its crop is 180×240), one at the corner (clamped to 110×105).
const INSIDE = { x: 100, y: 80, width: 120, height: 160 };
const CORNER = { x: 10, y: 5, width: 80, height: 80 };
// Near the right edge of the upright 1000×541 photo: 120×150 only if the crop is cut after turning it upright.
const RIGHT = { x: 900, y: 400, width: 80, height: 100 };

before(async () => {
  t = await createTestEnv('faceexport');
  sideways = await sharp(photo).rotate(-90).withMetadata({ orientation: 6 }).jpeg().toBuffer();
  ids.formula = await snapshot({ lanId: FORMULA, captured: ago(DAY), result: 'SUCCESS', faces: [INSIDE] });
  ids.two = await snapshot({ lanId: QUOTED, captured: ago(DAY / 2), result: 'SUCCESS_MULTIPLE_FACES', faces: [INSIDE, CORNER] });
  ids.stranger = await snapshot({ lanId: 'NA\\ada', captured: ago(DAY / 3), result: 'UNKNOWN_PERSON', image: sideways, faces: [RIGHT] });
  ids.empty = await snapshot({ lanId: 'NA\\ada', captured: ago(DAY / 4), result: 'NO_FACES_FOUND' });
  ids.invalid = await snapshot({ lanId: 'NA\\ada', captured: ago(DAY / 5), result: 'INVALID_IMAGE', image: Buffer.from('not a jpeg') });
  ids.retained = await snapshot({ lanId: 'NA\\ada', captured: ago(DAY / 6), result: 'SUCCESS', image: null, faces: [INSIDE] });
  ids.pending = await snapshot({ lanId: 'NA\\ada', captured: ago(DAY / 8), result: null });
  ids.old = await snapshot({ lanId: 'NA\\ada', captured: ago(3 * DAY), result: 'UNKNOWN_PERSON', faces: [INSIDE] });
});
after(async () => {
  rmSync(dir, { recursive: true, force: true });
  await t.cleanup();
});

test('export faces: one crop, one CSV line and one JSON line per face in the window, lan_ids escaped, nothing older', async () => {
  const out = join(dir, 'all.zip');
  const r = await runCli(['export', 'faces', '--since', '2d', '--out', out, '--json'], t.env);
  assert.equal(r.code, 0, r.stderr);
  const summary = JSON.parse(r.stdout) as { out: string; snapshots: number; faces: number; bytes: number };
  assert.deepEqual(summary, { out, snapshots: 4, faces: 5, bytes: statSync(out).size });
  assert.ok(!existsSync(`${out}.partial`));

  const zip = await readZip(out);
  const crops = [`faces/${ids.formula}-0.jpg`, `faces/${ids.two}-0.jpg`, `faces/${ids.two}-1.jpg`, `faces/${ids.stranger}-0.jpg`];
  assert.deepEqual(zip.names, [...crops, 'faces.csv', 'faces.jsonl']);
  const sizes = await Promise.all(crops.map(async (n) => sharp(zip.files.get(n)!).metadata()));
  assert.deepEqual(
    sizes.map((m) => [m.format, m.width, m.height]),
    [['jpeg', 180, 240], ['jpeg', 180, 240], ['jpeg', 110, 105], ['jpeg', 120, 150]],
    'box plus a quarter each side, clamped to the upright image',
  );

  const csvText = zip.files.get('faces.csv')!.toString('utf8');
  const csv = parseCsv(csvText);
  assert.deepEqual(csv[0], ['snapshot_id', 'face_index', 'lan_id', 'capture_time', 'box_x', 'box_y', 'box_width', 'box_height', 'score', 'result', 'distance', 'crop']);
  const captured = async (id: number) => (await t.database().db.selectFrom('stream_img').select('capture_time').where('id', '=', id).executeTakeFirstOrThrow()).capture_time.toISOString();
  assert.deepEqual(csv.slice(1), [
    [String(ids.formula), '0', `'${FORMULA}`, await captured(ids.formula), '100', '80', '120', '160', '0.875', 'SUCCESS', '0.41', crops[0]],
    [String(ids.two), '0', QUOTED, await captured(ids.two), '100', '80', '120', '160', '0.875', 'SUCCESS_MULTIPLE_FACES', '0.41', crops[1]],
    [String(ids.two), '1', QUOTED, await captured(ids.two), '10', '5', '80', '80', '0.75', 'SUCCESS_MULTIPLE_FACES', '0.41', crops[2]],
    [String(ids.stranger), '0', 'NA\\ada', await captured(ids.stranger), '900', '400', '80', '100', '0.875', 'UNKNOWN_PERSON', '0.41', crops[3]],
    [String(ids.retained), '0', 'NA\\ada', await captured(ids.retained), '100', '80', '120', '160', '0.875', 'SUCCESS', '0.41', ''],
  ]);
  assert.ok(csvText.includes(`,"NA\\o""brien, pat",`), 'the comma and the quote are quoted as RFC 4180 says');
  assert.ok(csvText.includes(`,'${FORMULA},`), 'a formula is defused with a leading quote');
  assert.match(csv[1]![3]!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/, 'ISO 8601, UTC');

  const jsonl = zip.files.get('faces.jsonl')!.toString('utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.deepEqual(jsonl.map((j) => [j.snapshotId, j.faceIndex, j.crop]), csv.slice(1).map((c) => [Number(c[0]), Number(c[1]), c[11] || null]));
  const first = jsonl[0]!;
  assert.deepEqual(first, {
    snapshotId: ids.formula,
    faceIndex: 0,
    lanId: FORMULA,
    captureTime: csv[1]![3],
    box: INSIDE,
    landmarks: landmarksIn(INSIDE),
    score: 0.875,
    quality: { sharpness: 0.5, brightness: 120 },
    result: 'SUCCESS',
    distance: 0.41,
    accuracy: 0.93,
    model: 'face-api/1.7.15',
    crop: crops[0],
  });
  assert.ok(!zip.files.get('faces.jsonl')!.toString().includes('descriptor'), 'descriptors stay in the database');
  assert.ok(!csv.some((c) => c[0] === String(ids.old)) && !jsonl.some((j) => j.snapshotId === ids.old), 'a snapshot before the window is not there');
});

test('export faces --refused: the snapshots judged and refused, with faces or without; no successes, nothing unjudged', async () => {
  const out = join(dir, 'refused.zip');
  const r = await runCli(['export', 'faces', '--since', '48h', '--out', out, '--refused'], t.env);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^wrote .*refused\.zip: 3 snapshot\(s\), 1 face\(s\), \d+ bytes\n$/);
  const zip = await readZip(out);
  assert.deepEqual(zip.names, [`faces/${ids.stranger}-0.jpg`, 'faces.csv', 'faces.jsonl']);
  const csv = parseCsv(zip.files.get('faces.csv')!.toString('utf8')).slice(1);
  assert.deepEqual(
    csv.map((c) => [Number(c[0]), c[1], c[9], c[11]]),
    [
      [ids.stranger, '0', 'UNKNOWN_PERSON', `faces/${ids.stranger}-0.jpg`],
      [ids.empty, '', 'NO_FACES_FOUND', ''],
      [ids.invalid, '', 'INVALID_IMAGE', ''],
    ],
  );
  const jsonl = zip.files.get('faces.jsonl')!.toString('utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.deepEqual(jsonl[1], { snapshotId: ids.empty, faceIndex: null, lanId: 'NA\\ada', captureTime: jsonl[1]!.captureTime, box: null, landmarks: null, score: null, quality: null, result: 'NO_FACES_FOUND', distance: 0.41, accuracy: 0.93, model: null, crop: null });
});

test("export faces --lan-id: one employee's snapshots, the name compared as the database compares lan_ids", async () => {
  const out = join(dir, 'one.zip');
  const r = await runCli(['export', 'faces', '--since', '2d', '--out', out, '--lan-id', QUOTED.toUpperCase(), '--json'], t.env);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { out, snapshots: 1, faces: 2, bytes: statSync(out).size });
  assert.deepEqual((await readZip(out)).names, [`faces/${ids.two}-0.jpg`, `faces/${ids.two}-1.jpg`, 'faces.csv', 'faces.jsonl']);
});

test('export faces refuses a missing folder or a bad duration, and a failed export leaves nothing under the name (an old archive stays)', async () => {
  const missing = await runCli(['export', 'faces', '--since', '1d', '--out', join(dir, 'nope', 'x.zip')], t.env);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /EXPORT_DIR_MISSING/);
  assert.ok(!existsSync(join(dir, 'nope')));

  for (const since of ['yesterday', '0', '-1d']) {
    const bad = await runCli(['export', 'faces', '--since', since, '--out', join(dir, 'bad.zip')], t.env);
    assert.notEqual(bad.code, 0, since);
    assert.match(bad.stderr, /expected a duration such as 10d/, since);
  }

  const out = join(dir, 'kept.zip');
  writeFileSync(out, 'the archive of last week');
  const failed = await runCli(['export', 'faces', '--since', '1d', '--out', out], { ...t.env, DATABASE_URL: `${t.env.DATABASE_URL}_missing` });
  assert.equal(failed.code, 1);
  assert.equal(readFileSync(out, 'utf8'), 'the archive of last week');
  assert.ok(!existsSync(`${out}.partial`));
  assert.deepEqual(readdirSync(dir).filter((f) => f.endsWith('.partial')), []);
});

test('an export of 300 snapshots reads them in pages, one image at a time, and waits for a slow reader instead of filling memory', async () => {
  const db = t.database().db;
  // A larger photo, so the images (300 of them) weigh far more than what the export may hold.
  const big = await sharp(photo).resize({ width: 2000 }).jpeg({ quality: 95 }).toBuffer();
  const lanId = 'NA\\bulk';
  const start = Date.now() - 2 * DAY;
  // Three snapshots a second, so capture times tie, across the end of the first page too (rows 198-200).
  // In tens: images travel hex-encoded, and a statement must fit max_allowed_packet.
  for (let batch = 0; batch < 300; batch += 10) {
    const rows = Array.from({ length: 10 }, (_, i) => ({ lan_id: lanId, capture_time: new Date(Math.floor(start / 1000) * 1000 + Math.floor((batch + i) / 3) * 1000), image: big, status: 'Y' as const, result: 'SUCCESS' as const, num_faces: 1 }));
    await db.insertInto('stream_img').values(rows).execute();
  }
  const bulk = await db.selectFrom('stream_img').select('id').where('lan_id', '=', lanId).orderBy('id').execute();
  assert.equal(bulk.length, 300);
  await db
    .insertInto('stream_face')
    .values(bulk.map((r) => ({ stream_img_id: r.id, face_index: 0, lan_id: lanId, box: JSON.stringify({ x: 600, y: 300, width: 400, height: 500 }), score: 0.9, landmarks: null, quality: null, model: 'm', descriptor: encodeDescriptor(new Array(128).fill(0)) })))
    .execute();

  const repo = faceExportRepository(db);
  const pages: number[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  let images = 0;
  let imageBytes = 0;
  const seen = new Set<number>();
  // The first images warm up libvips and the allocator; from then on memory should stay flat.
  const WARM = 50;
  let warm = { rss: 0, imageBytes: 0 };
  const counted: FaceExportRepository = {
    async snapshotPage(f, after, limit) {
      const page = await repo.snapshotPage(f, after, limit);
      pages.push(page.length);
      return page;
    },
    async image(id) {
      maxInFlight = Math.max(maxInFlight, ++inFlight);
      seen.add(id);
      try {
        const b = await repo.image(id);
        images++;
        imageBytes += b?.length ?? 0;
        if (images === WARM) warm = { rss: settledRss(), imageBytes };
        return b;
      } finally {
        inFlight--;
      }
    },
  };
  // A reader that stops taking bytes for a while (a download on a stalled line), then goes on slowly.
  let received = 0;
  let stalled: (() => void) | undefined;
  let stallAt = -1;
  const reader = new Writable({
    highWaterMark: 64 * 1024,
    write(chunk: Buffer, _enc, done) {
      received += chunk.length;
      if (stallAt < 0 && received > 1024 * 1024) {
        stallAt = images;
        stalled = done;
      } else setTimeout(done, 1);
    },
  });
  // libvips caches its last 100 operations (50 MiB at most), whose inputs are the images:
  // bounded whatever the export's size, but it would blur this measure, so it is off here.
  sharp.cache(false);
  const exported = writeFaceExport({ repo: counted }, { since: new Date(start - 1000), refused: false, lanId }, reader).finally(() => sharp.cache(true));
  while (!stalled) await new Promise((r) => setTimeout(r, 10));
  await new Promise((r) => setTimeout(r, 500));
  const readWhileStalled = images - stallAt;
  stalled();
  const summary = await exported;

  assert.ok(readWhileStalled <= 8, `${readWhileStalled} images read while the reader took nothing: the export waits for the archive's reader`);
  assert.deepEqual(pages, [200, 100], 'pages of 200 snapshots');
  assert.deepEqual([images, seen.size, maxInFlight], [300, 300, 1], 'each image read once, one at a time');
  assert.deepEqual([summary.snapshots, summary.faces, summary.bytes], [300, 300, received]);
  const growth = settledRss() - warm.rss;
  const later = imageBytes - warm.imageBytes;
  console.log(`images ${(imageBytes / 2 ** 20).toFixed(1)} MiB, archive ${(received / 2 ** 20).toFixed(1)} MiB, RSS after the first ${WARM} images grew ${(growth / 2 ** 20).toFixed(1)} MiB`);
  assert.ok(growth < later / 4, `RSS grew ${growth} bytes over images of ${later} bytes`);
});

/** RSS after a full garbage collection, so the inserts' and the driver's dead buffers do not count. */
function settledRss(): number {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
  return process.memoryUsage().rss;
}

test('a reader that fails stops the export with its error, and the temporary lists are removed', async () => {
  const tmp = mkdtempSync(join(dir, 'tmp-'));
  let taken = 0;
  const failing = new Writable({
    write(chunk: Buffer, _enc, done) {
      taken += chunk.length;
      done(taken > 1000 ? Object.assign(new Error('the client went away'), { code: 'ECONNRESET' }) : undefined);
    },
  });
  await assert.rejects(writeFaceExport({ repo: faceExportRepository(t.database().db), tmpDir: tmp }, { since: new Date(Date.now() - 3 * DAY), refused: false }, failing), /the client went away/);
  assert.deepEqual(readdirSync(tmp), []);
  // Given again, ended or destroyed, the output is refused at once instead of waited on for ever.
  await assert.rejects(writeFaceExport({ repo: faceExportRepository(t.database().db), tmpDir: tmp }, { since: new Date(), refused: false }, failing), /EXPORT_OUTPUT_CLOSED/);
  const ended = new Writable({ write: (_c, _e, done) => done() });
  ended.end();
  await assert.rejects(writeFaceExport({ repo: faceExportRepository(t.database().db), tmpDir: tmp }, { since: new Date(), refused: false }, ended), /EXPORT_OUTPUT_CLOSED/);
});

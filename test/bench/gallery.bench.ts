// Issue 26 item 3: the duplicate-identity check must not slow facetraining. Times, over a
// gallery of 10,000 employees × 10 faces in MariaDB, the gallery index's full load, its
// incremental refresh, the search alone and the whole check (refresh, removed faces, search,
// confirmation in SQL), against its baseline measured in the same run: the engine's
// analysis of one real photo (../shared/faces/deepface) on one thread, what every enrolment
// costs before the check runs.
//
// The gallery's descriptors are real ones jittered: each employee's centre is a real
// descriptor of the photos moved by N(0, 0.053) per value (two employees on one real face
// 0.85 apart, as different people read), and each face its centre moved by N(0, 0.025)
// (one employee's faces 0.4 apart).
import { loadConfig } from '../../services/config.ts';
import { FaceEngine } from '../../shared/face/engine.ts';
import { createLogger } from '../../shared/logger.ts';
import { encodeDescriptor } from '../../db/descriptor.ts';
import { galleryFacesRepository } from '../../db/repositories/gallery-faces.repository.ts';
import { duplicateChecker } from '../../shared/gallery/duplicate-check.ts';
import { GalleryIndex } from '../../shared/gallery/gallery-index.ts';
import { createTestEnv } from '../helpers/test-env.ts';
import { largePhotos, LARGE_PHOTOS_DIR } from './face-images.ts';
import { median, printTable } from './table.ts';

const EMPLOYEES = Number(process.env.BENCH_GALLERY_EMPLOYEES ?? 10_000);
const FACES_EACH = Number(process.env.BENCH_GALLERY_FACES ?? 10);
const QUERIES = Number(process.env.BENCH_GALLERY_QUERIES ?? 200);
/** Analyses of the one photo timed (after a warm-up). */
const ANALYSES = Number(process.env.BENCH_GALLERY_ANALYSES ?? 15);

export async function benchGallery(): Promise<void> {
  const photos = await largePhotos();
  if (!photos) {
    console.log(`\ngallery bench skipped: ${LARGE_PHOTOS_DIR} is absent`);
    return;
  }
  const { engine } = await FaceEngine.load('auto');
  await engine.warmUp();
  // Centres: the descriptor of every photo that shows exactly one face.
  const real: Float32Array[] = [];
  for (const p of photos) {
    const a = await engine.analyze(p.bytes);
    if (a.faces.length === 1) real.push(a.faces[0]!.descriptor);
  }
  const photo = photos.find((p) => p.name === 'img1.jpg') ?? photos[0]!;
  await engine.analyze(photo.bytes);
  const analysis: number[] = [];
  for (let i = 0; i < ANALYSES; i++) {
    const t0 = performance.now();
    await engine.analyze(photo.bytes);
    analysis.push(performance.now() - t0);
  }
  const model = engine.info.model;
  const bound = loadConfig({}).face.matchThreshold - loadConfig({}).face.duplicateMargin;

  const t = await createTestEnv('benchgallery', { LOG_LEVEL: 'warn' });
  try {
    const db = t.database().db;
    const rand = gaussian(26);
    const centres = Array.from({ length: EMPLOYEES }, (_, e) => jitter(real[e % real.length]!, 0.053, rand));
    const lanOf = (e: number) => `NA\\gallery${e}`;
    const insertFaces = async (faces: { lanId: string; descriptor: Float32Array }[]) => {
      for (let i = 0; i < faces.length; i += 1000) {
        const chunk = faces.slice(i, i + 1000);
        const r = await db.insertInto('train_img').values(chunk.map((f) => ({ lan_id: f.lanId, image: null, status: 'Y' as const, result: 'SUCCESS' as const }))).executeTakeFirstOrThrow();
        const first = Number(r.insertId);
        await db
          .insertInto('face_descriptor')
          .values(chunk.map((f, k) => ({ train_img_id: first + k, lan_id: f.lanId, model, descriptor: encodeDescriptor(f.descriptor), box: '{}', score: 0.99, quality: '{}' })))
          .execute();
      }
    };
    const fill0 = performance.now();
    const gallery: { lanId: string; descriptor: Float32Array }[] = [];
    for (let e = 0; e < EMPLOYEES; e++) for (let f = 0; f < FACES_EACH; f++) gallery.push({ lanId: lanOf(e), descriptor: jitter(centres[e]!, 0.025, rand) });
    await insertFaces(gallery);
    const fillSeconds = (performance.now() - fill0) / 1000;

    const repo = galleryFacesRepository(db);
    const checker = duplicateChecker({ faces: repo, model, bound, log: createLogger({ level: 'silent' }) });
    const load0 = performance.now();
    await checker.refresh();
    const fullLoad = performance.now() - load0;
    const loaded = checker.size;

    // The search alone, on an index loaded the same way.
    const index = new GalleryIndex();
    for (let after = 0; ; ) {
      const rows = await repo.descriptorsAfter(model, after, [], 5000);
      index.add(rows);
      if (rows.length < 5000) break;
      after = rows.at(-1)!.descriptorId;
    }
    // New people (a centre never enrolled), another photo of an enrolled employee (a face
    // about 0.4 from their gallery's) and a picture of theirs reused (a gallery face moved by
    // about 0.06, as re-encoding or re-framing moves it), each under a new lan_id.
    const newPeople = Array.from({ length: QUERIES }, (_, i) => jitter(jitter(real[i % real.length]!, 0.053, rand), 0.025, rand));
    const seconds = Array.from({ length: QUERIES }, (_, i) => jitter(centres[(i * 7919) % EMPLOYEES]!, 0.025, rand));
    const reused = Array.from({ length: QUERIES }, (_, i) => jitter(gallery[(i * 7919) % gallery.length]!.descriptor, 0.005, rand));
    const timeSearch = (qs: Float32Array[]) => {
      const ms: number[] = [];
      let hits = 0;
      for (const q of qs) {
        const t0 = performance.now();
        const found = index.search({ descriptor: q, lanIdWeight: 'none', bound, removed: new Set(), limit: 32 });
        ms.push(performance.now() - t0);
        if (found.length > 0) hits++;
      }
      return { ms, hits };
    };
    const searchNew = timeSearch(newPeople);
    const searchSecond = timeSearch(seconds);
    const searchReused = timeSearch(reused);

    const refreshIdle: number[] = [];
    for (let i = 0; i < 50; i++) {
      const t0 = performance.now();
      await checker.refresh();
      refreshIdle.push(performance.now() - t0);
    }
    const refreshTen: number[] = [];
    for (let i = 0; i < 20; i++) {
      await insertFaces(Array.from({ length: 10 }, (_, k) => ({ lanId: `NA\\late${i}_${k}`, descriptor: jitter(real[k % real.length]!, 0.06, rand) })));
      const t0 = performance.now();
      await checker.refresh();
      refreshTen.push(performance.now() - t0);
    }

    const timeCheck = async (qs: Float32Array[]) => {
      const ms: number[] = [];
      let duplicates = 0;
      for (const [i, q] of qs.entries()) {
        const t0 = performance.now();
        const v = await checker.check({ descriptor: q, lanId: `NA\\newcomer${i}`, lanIdWeight: `newcomer${i}` });
        ms.push(performance.now() - t0);
        if (v.duplicateOf) duplicates++;
      }
      return { ms, duplicates };
    };
    const checkNew = await timeCheck(newPeople);
    const checkSecond = await timeCheck(seconds);
    const checkReused = await timeCheck(reused);

    const base = median(analysis);
    const row = (name: string, ms: number[], note = ''): (string | number)[] => [name, ms.length, median(ms).toFixed(2), p95(ms).toFixed(2), `${((median(ms) / base) * 100).toFixed(1)}%`, note];
    printTable(
      `Duplicate-identity check over ${index.size.toLocaleString('en')} gallery faces (${EMPLOYEES.toLocaleString('en')} employees × ${FACES_EACH}, jittered real descriptors), bound ${bound.toFixed(2)}, backend ${engine.info.backend}`,
      ['step', 'runs', 'median ms', 'p95 ms', 'of one analysis', 'found'],
      [
        row(`baseline: the engine's analysis of one real photo (${photo.name}), one thread`, analysis),
        row('full load of the index from face_descriptor (at start, then hourly in the background)', [fullLoad], `${loaded.toLocaleString('en')} faces`),
        row('incremental refresh, no new faces', refreshIdle),
        row('incremental refresh, 10 new faces', refreshTen),
        row('search alone, a new person', searchNew.ms, `${searchNew.hits} of ${QUERIES} within the bound`),
        row("search alone, another photo of an enrolled employee under a new lan_id", searchSecond.ms, `${searchSecond.hits} of ${QUERIES}`),
        row("search alone, an enrolled employee's picture reused under a new lan_id", searchReused.ms, `${searchReused.hits} of ${QUERIES}`),
        row('whole check (refresh, removed faces, search, confirmation), a new person', checkNew.ms, `${checkNew.duplicates} duplicates`),
        row('whole check, another photo of an enrolled employee', checkSecond.ms, `${checkSecond.duplicates} duplicates`),
        row("whole check, an enrolled employee's picture reused", checkReused.ms, `${checkReused.duplicates} duplicates`),
      ],
    );
    const mib = (index.size * index.dims * 4) / 2 ** 20;
    console.log(`gallery filled in ${fillSeconds.toFixed(0)} s; the index holds ${mib.toFixed(0)} MiB of descriptors; ${real.length} real descriptors as centres`);
  } finally {
    await t.cleanup();
  }
}

function p95(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * 0.95))]!;
}

function jitter(v: ArrayLike<number>, sigma: number, rand: () => number): Float32Array {
  return Float32Array.from(v, (x) => x + rand() * sigma);
}

/** Standard normal values from a seeded generator (Box-Muller), so runs compare. */
function gaussian(seed: number): () => number {
  let s = seed >>> 0;
  const uniform = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s + 1) / 4294967297;
  };
  return () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
}

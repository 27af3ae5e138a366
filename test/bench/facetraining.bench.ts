// Issue 4 benchmark: enrolments per second through the facetraining service (RabbitMQ and
// MariaDB, a worker thread per core) next to a plain single-thread face-api loop over the
// same photos, in the same run; then RSS and live tensors along 2,000 enrolments.
// Issue 13: the same on the large real photos of ../shared/faces/deepface (0.6–3.3 MP),
// once with every photo a different employee and once as one employee's burst (the
// employee's lock covers only the decision, so the burst keeps every face thread busy).
import { availableParallelism } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadConfig } from '../../services/config.ts';
import { faceAnalyzerFor } from '../../shared/app/face-analyzer-for.ts';
import { createLogger } from '../../shared/logger.ts';
import { createAppContext } from '../../shared/app/app-context.ts';
import { runServices } from '../../shared/app/run-services.ts';
import { service as facetraining } from '../../services/facetraining/main.ts';
import { createTestEnv } from '../helpers/test-env.ts';
import { publishRaw } from '../helpers/runtime-harness.ts';
import { describeResults, enrolmentPhotos, largePhotos, LARGE_PHOTOS_DIR, megapixels } from './face-images.ts';
import { publishAndSettle } from './settle.ts';
import { describeCpuPerImage } from './process-cpu.ts';
import { printTable } from './table.ts';
import { engineLoop, plainLoop } from './plain-loop.ts';

const PLAIN_IMAGES = Number(process.env.BENCH_FACE_PLAIN ?? 150);
const SERVICE_IMAGES = Number(process.env.BENCH_FACE_IMAGES ?? 2000);
/** Large photos: the plain loop's count (each photo once by default) and each service row's. */
const LARGE_PLAIN = Number(process.env.BENCH_LARGE_PLAIN ?? 64);
const LARGE_IMAGES = Number(process.env.BENCH_LARGE_IMAGES ?? 128);

export async function benchFacetraining(): Promise<void> {
  const cores = availableParallelism();
  // The baseline runs before and after the service and counts as their mean, so a machine
  // that speeds up or slows down during the run does not tilt the ratio.
  const plainBefore = await plainLoop('enrol', PLAIN_IMAGES);
  // Where the lead comes from: the engine's own speed on one thread, then the pool.
  const engineOne = await engineLoop(PLAIN_IMAGES);
  const large = await largePhotos();
  const largeBefore = large && (await plainLoop('large', LARGE_PLAIN));

  const t = await createTestEnv('benchfacetrain', { FACE_WORKERS: String(cores), FACETRAINING_CONCURRENCY: String(cores * 2), LOG_LEVEL: 'warn' });
  const photos = await enrolmentPhotos();
  const db = t.database().db;
  const ids: number[] = [];
  for (let i = 0; i < SERVICE_IMAGES; i += 200) {
    const rows = Array.from({ length: Math.min(200, SERVICE_IMAGES - i) }, (_, k) => ({ lan_id: `NA\\bench${i + k}`, image: photos[(i + k) % photos.length]! }));
    const r = await db.insertInto('train_img').values(rows).executeTakeFirstOrThrow();
    for (let k = 0; k < rows.length; k++) ids.push(Number(r.insertId) + k);
  }
  const app = createAppContext(loadConfig(t.env), createLogger({ level: 'warn' }));
  const running = await runServices([facetraining], app, { healthServer: false });
  const analyzer = await faceAnalyzerFor(app);
  const done = async () => {
    const r = await db.selectFrom('train_img').select(({ fn }) => fn.countAll<number>().as('n')).where('status', 'in', ['Y', 'F']).executeTakeFirstOrThrow();
    return Number(r.n);
  };
  const samples: (string | number)[][] = [];
  const t0 = performance.now();
  await publishRaw(`${t.prefix}facetraining`, ids.map(String));
  let rate100 = 0;
  const marks = [...new Set([100, 500, 1000, 1500, 2000].filter((m) => m < SERVICE_IMAGES).concat(SERVICE_IMAGES))];
  for (const mark of marks) {
    while ((await done()) < mark) await sleep(200);
    if (mark === 100) rate100 = performance.now();
    const probe = await analyzer.analyze(photos[0]!);
    samples.push([mark, Math.round(process.memoryUsage().rss / 2 ** 20), probe.numTensors]);
  }
  const seconds = (performance.now() - t0) / 1000;
  const steady = (SERVICE_IMAGES - 100) / ((performance.now() - rate100) / 1000);
  const rate = SERVICE_IMAGES / seconds;
  const results = await db.selectFrom('train_img').select(['result']).execute();
  const attempts = await db.selectFrom('process_status').select('detail').execute();
  const analysisMs = attempts.reduce((a, r) => a + Number(JSON.parse(r.detail ?? '{}').ms ?? 0), 0);
  const busy = analysisMs / (cores * seconds * 1000);
  const ok = results.filter((r) => r.result === 'SUCCESS').length;

  // Large real photos, after the 2,000 (whose memory table is of small crops only).
  const largeRuns = large && {
    employees: await largeRun(db, t.prefix, large, (i) => `NA\\large${i}`),
    burst: await largeRun(db, t.prefix, large, () => 'NA\\onebadge'),
  };
  await running.stop();
  await t.cleanup();
  const plainAfter = await plainLoop('enrol', PLAIN_IMAGES);
  const plain = { backend: plainBefore.backend, rate: (plainBefore.rate + plainAfter.rate) / 2 };
  const largeAfter = large && (await plainLoop('large', LARGE_PLAIN));

  printTable(
    `Enrolments per second (${photos.length} distinct face crops, ${cores} cores, backend ${analyzer.info.backend})`,
    ['pipeline', 'images', 'enrolments/s', 'ratio'],
    [
      [`plain single-thread face-api loop (${plain.backend}), before the service`, PLAIN_IMAGES, plainBefore.rate.toFixed(2), ''],
      ['  the same, after the service', PLAIN_IMAGES, plainAfter.rate.toFixed(2), ''],
      ['  baseline: their mean', PLAIN_IMAGES * 2, plain.rate.toFixed(2), '1.00'],
      [`the service's engine alone, one thread (fused detector, second looks, quality measures)`, PLAIN_IMAGES, engineOne.rate.toFixed(2), (engineOne.rate / plain.rate).toFixed(2)],
      [`facetraining service, RabbitMQ + MariaDB, ${cores} workers`, SERVICE_IMAGES, rate.toFixed(2), (rate / plain.rate).toFixed(2)],
      ['  the same, after the first 100 (steady state)', SERVICE_IMAGES - 100, steady.toFixed(2), (steady / plain.rate).toFixed(2)],
    ],
  );
  console.log(`face workers busy analysing: ${(busy * 100).toFixed(1)}% of ${cores} × ${seconds.toFixed(0)} s (mean ${(analysisMs / attempts.length).toFixed(0)} ms per image in a worker)`);
  if (large && largeRuns && largeBefore && largeAfter) {
    const base = (largeBefore.rate + largeAfter.rate) / 2;
    const ratio = (r: number) => (r / base).toFixed(2);
    printTable(
      `Enrolments per second on large real photos (${large.length} JPEGs of ${await megapixels(large)} MP from ${LARGE_PHOTOS_DIR}, ${cores} cores)`,
      ['pipeline', 'images', 'enrolments/s', 'ratio'],
      [
        [`plain single-thread face-api loop (${largeBefore.backend}), before the service`, LARGE_PLAIN, largeBefore.rate.toFixed(2), ''],
        ['  the same, after the service', LARGE_PLAIN, largeAfter.rate.toFixed(2), ''],
        ['  baseline: their mean', LARGE_PLAIN * 2, base.toFixed(2), '1.00'],
        [`facetraining service, every photo a different employee, ${cores} workers`, LARGE_IMAGES, largeRuns.employees.rate.toFixed(2), ratio(largeRuns.employees.rate)],
        [`facetraining service, one employee's burst (a re-enrolment batch), ${cores} workers`, LARGE_IMAGES, largeRuns.burst.rate.toFixed(2), ratio(largeRuns.burst.rate)],
      ],
    );
    console.log(`large-photo results: ${describeResults(largeRuns.employees.results)} (per employee); ${describeResults(largeRuns.burst.results)} (one employee)`);
    console.log(
      `CPU per large photo: plain loop ${largeBefore.cpuMsPerStep.toFixed(0)} ms before, ${largeAfter.cpuMsPerStep.toFixed(0)} ms after; ` +
        `every photo a different employee: ${describeCpuPerImage(largeRuns.employees.cpu, LARGE_IMAGES)}; one employee's burst: ${describeCpuPerImage(largeRuns.burst.cpu, LARGE_IMAGES)}`,
    );
  } else {
    console.log(`\nlarge-photo rows skipped: ${LARGE_PHOTOS_DIR} is absent`);
  }
  console.log(`CPU per small crop: plain loop ${plainBefore.cpuMsPerStep.toFixed(0)} ms before, ${plainAfter.cpuMsPerStep.toFixed(0)} ms after; the engine alone ${engineOne.cpuMsPerStep.toFixed(0)} ms`);
  printTable(`Memory along ${SERVICE_IMAGES} enrolments (${ok} SUCCESS)`, ['enrolments done', 'RSS MiB (main thread + workers)', 'live tensors in a worker'], samples);
}

/** LARGE_IMAGES enrolments cycling over the large photos, published at once; the rate from publish to the last result. */
async function largeRun(db: ReturnType<Awaited<ReturnType<typeof createTestEnv>>['database']>['db'], prefix: string, photos: { bytes: Buffer }[], lanOf: (i: number) => string) {
  const ids: number[] = [];
  // One row per insert: a few of these photos take MiBs hex-encoded.
  for (let i = 0; i < LARGE_IMAGES; i++) {
    const r = await db.insertInto('train_img').values({ lan_id: lanOf(i), image: photos[i % photos.length]!.bytes }).executeTakeFirstOrThrow();
    ids.push(Number(r.insertId));
  }
  return publishAndSettle(db, 'train_img', `${prefix}facetraining`, ids);
}

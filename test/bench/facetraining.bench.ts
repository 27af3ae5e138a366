// Issue 4 benchmark: enrolments per second through the facetraining service (RabbitMQ and
// MariaDB, a worker thread per core) next to a plain single-thread face-api loop over the
// same photos, in the same run; then RSS and live tensors along 2,000 enrolments.
import { availableParallelism } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadConfig } from '../../shared/config/config.ts';
import { faceAnalyzerFor } from '../../shared/app/face-analyzer-for.ts';
import { createLogger } from '../../shared/logger.ts';
import { createAppContext } from '../../shared/app/app-context.ts';
import { runServices } from '../../shared/app/run-services.ts';
import { service as facetraining } from '../../services/facetraining/main.ts';
import { createTestEnv } from '../helpers/test-env.ts';
import { publishRaw } from '../helpers/runtime-harness.ts';
import { enrolmentPhotos } from './face-images.ts';
import { printTable } from './table.ts';
import { engineLoop, plainLoop } from './plain-loop.ts';

const PLAIN_IMAGES = Number(process.env.BENCH_FACE_PLAIN ?? 150);
const SERVICE_IMAGES = Number(process.env.BENCH_FACE_IMAGES ?? 2000);

export async function benchFacetraining(): Promise<void> {
  const cores = availableParallelism();
  // The baseline runs before and after the service and counts as their mean, so a machine
  // that speeds up or slows down during the run does not tilt the ratio.
  const plainBefore = await plainLoop('enrol', PLAIN_IMAGES);
  // Where the lead comes from: the engine's own speed on one thread, then the pool.
  const engineOne = await engineLoop(PLAIN_IMAGES);

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
  await running.stop();
  await t.cleanup();
  const plainAfter = await plainLoop('enrol', PLAIN_IMAGES);
  const plain = { backend: plainBefore.backend, rate: (plainBefore.rate + plainAfter.rate) / 2 };

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
  printTable(`Memory along ${SERVICE_IMAGES} enrolments (${ok} SUCCESS)`, ['enrolments done', 'RSS MiB (main thread + workers)', 'live tensors in a worker'], samples);
}

// Issue 5 benchmark: snapshots verified per second through the facestreaming service
// (RabbitMQ and MariaDB, a worker thread per core, the enrolment's stored descriptor) next
// to a plain single-thread face-api loop that, like the seed, encodes both the enrolment
// photo and the snapshot for every check, on the same images in the same run.
import { availableParallelism } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadConfig } from '../../shared/config/config.ts';
import { faceAnalyzerFor } from '../../shared/app/face-analyzer-for.ts';
import { createLogger } from '../../shared/logger.ts';
import { createAppContext } from '../../shared/app/app-context.ts';
import { runServices } from '../../shared/app/run-services.ts';
import { service as facetraining } from '../../services/facetraining/main.ts';
import { service as facestreaming } from '../../services/facestreaming/main.ts';
import { createTestEnv } from '../helpers/test-env.ts';
import { publishRaw } from '../helpers/runtime-harness.ts';
import { streamingSet } from './face-images.ts';
import { plainLoop } from './plain-loop.ts';
import { printTable } from './table.ts';

const PLAIN_CHECKS = Number(process.env.BENCH_STREAM_PLAIN ?? 60);
const SNAPSHOTS = Number(process.env.BENCH_STREAM_IMAGES ?? 600);

export async function benchFacestreaming(): Promise<void> {
  const cores = availableParallelism();
  // The baseline runs before and after the service and counts as their mean, so a machine
  // that speeds up or slows down during the run does not tilt the ratio.
  const plainBefore = await plainLoop('verify', PLAIN_CHECKS);

  const t = await createTestEnv('benchfacestream', {
    FACE_WORKERS: String(cores),
    FACESTREAMING_CONCURRENCY: String(cores * 2),
    FACETRAINING_CONCURRENCY: String(cores * 2),
    LOG_LEVEL: 'warn',
  });
  const { enrolments, snapshots } = await streamingSet();
  const EMPLOYEES = enrolments.length * 3;
  const db = t.database().db;
  const app = createAppContext(loadConfig(t.env), createLogger({ level: 'warn' }));
  const running = await runServices([facetraining, facestreaming], app, { healthServer: false });
  const analyzer = await faceAnalyzerFor(app);
  const count = async (table: 'train_img' | 'stream_img') =>
    Number((await db.selectFrom(table).select(({ fn }) => fn.countAll<number>().as('n')).where('status', 'in', ['Y', 'F']).executeTakeFirstOrThrow()).n);

  // Enrol every employee first (not timed): employee e is face e % faces.
  const lan = (e: number) => `NA\\bench${e}`;
  const trainIds: number[] = [];
  for (let e = 0; e < EMPLOYEES; e++) {
    const r = await db.insertInto('train_img').values({ lan_id: lan(e), image: enrolments[e % enrolments.length]! }).executeTakeFirstOrThrow();
    trainIds.push(Number(r.insertId));
  }
  await publishRaw(`${t.prefix}facetraining`, trainIds.map(String));
  while ((await count('train_img')) < EMPLOYEES) await sleep(200);

  // Snapshots round-robin over the employees, one second apart per employee, each
  // employee cycling through its face's webcam variants.
  const ids: number[] = [];
  const base = Date.now() - 86_400_000;
  for (let i = 0; i < SNAPSHOTS; i += 200) {
    const rows = Array.from({ length: Math.min(200, SNAPSHOTS - i) }, (_, k) => {
      const n = i + k;
      const e = n % EMPLOYEES;
      const round = Math.floor(n / EMPLOYEES);
      const variants = snapshots[e % enrolments.length]!;
      return { lan_id: lan(e), image: variants[round % variants.length]!, capture_time: new Date(base + round * 1000) };
    });
    const r = await db.insertInto('stream_img').values(rows).executeTakeFirstOrThrow();
    for (let k = 0; k < rows.length; k++) ids.push(Number(r.insertId) + k);
  }
  const t0 = performance.now();
  await publishRaw(`${t.prefix}facestreaming`, ids.map(String));
  while ((await count('stream_img')) < SNAPSHOTS) await sleep(200);
  const seconds = (performance.now() - t0) / 1000;
  const rate = SNAPSHOTS / seconds;
  const results = await db.selectFrom('stream_img').select('result').execute();
  const byResult = new Map<string, number>();
  for (const r of results) byResult.set(String(r.result), (byResult.get(String(r.result)) ?? 0) + 1);
  await running.stop();
  await t.cleanup();
  const plainAfter = await plainLoop('verify', PLAIN_CHECKS);
  const plain = { backend: plainBefore.backend, rate: (plainBefore.rate + plainAfter.rate) / 2 };

  printTable(
    `Snapshots verified per second (${enrolments.length} enrolled faces × 4 webcam variants, ${EMPLOYEES} employees, ${cores} cores, backend ${analyzer.info.backend})`,
    ['pipeline', 'checks', 'checks/s', 'ratio'],
    [
      [`plain single-thread face-api loop, enrolment + snapshot encoded per check (${plain.backend}), before the service`, PLAIN_CHECKS, plainBefore.rate.toFixed(2), ''],
      ['  the same, after the service', PLAIN_CHECKS, plainAfter.rate.toFixed(2), ''],
      ['  baseline: their mean', PLAIN_CHECKS * 2, plain.rate.toFixed(2), '1.00'],
      [`facestreaming service, RabbitMQ + MariaDB, stored descriptor, ${cores} workers`, SNAPSHOTS, rate.toFixed(2), (rate / plain.rate).toFixed(2)],
    ],
  );
  console.log(`results: ${[...byResult].map(([k, v]) => `${k} ${v}`).join(', ')}`);
}

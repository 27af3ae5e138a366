// Issue 14 benchmark: `vigil import` of a folder of 200 generated files of 10 MB (2 GB) to
// s3rver, SHA-256 included, next to a bare @aws-sdk/lib-storage loop over the same files
// that only uploads (same concurrency, part size and queue size), measured in the same run,
// alternating, each to a fresh bucket (the median of BENCH_IMPORT_ROUNDS runs of each).
// Target: the import at least 0.9x the loop's rate, since the hash comes from the same read
// as the upload.
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Upload } from '@aws-sdk/lib-storage';
import { main } from '../../services/cli/main.ts';
import { createS3Client } from '../../shared/storage/s3-client.ts';
import { createObjectStore } from '../../shared/storage/object-store.ts';
import { startS3Server } from '../helpers/s3-server.ts';
import { createTestEnv } from '../helpers/test-env.ts';
import { drainQueue } from '../helpers/runtime-harness.ts';
import { median, printTable } from './table.ts';

/** `BENCH_IMPORT_FILES`, `BENCH_IMPORT_MB`: the folder; `BENCH_IMPORT_ROUNDS`: runs of each. */
const FILES = Number(process.env.BENCH_IMPORT_FILES ?? 200);
const FILE_MB = Number(process.env.BENCH_IMPORT_MB ?? 10);
const ROUNDS = Number(process.env.BENCH_IMPORT_ROUNDS ?? 3);
const CONCURRENCY = 4;
const PART = 8 * 1024 * 1024;
const QUEUE = 4;

const seconds = (since: number) => (performance.now() - since) / 1000;

export async function benchImport(): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), 'vigil-bench-import-'));
  const dir = join(work, 'in');
  const s3 = await startS3Server();
  const t = await createTestEnv('benchimport', { ...s3.env, LOG_LEVEL: 'warn' });
  const store = createObjectStore(t.config.s3);
  const client = createS3Client(t.config.s3);
  try {
    const files: string[] = [];
    const past = new Date(Date.now() - 3600_000);
    for (let i = 0; i < FILES; i++) {
      const sub = join(dir, `site-${i % 4}`);
      await mkdir(sub, { recursive: true });
      const path = join(sub, `cam${i % 8}-${1_511_893_800 + i * 60}.mp4`);
      await writeFile(path, randomBytes(FILE_MB * 1024 * 1024));
      await utimes(path, past, past);
      files.push(path);
    }
    const totalMb = (FILES * FILE_MB * 1024 * 1024) / 1e6;
    const bare: number[] = [];
    const imported: number[] = [];

    const freshBucket = async () => {
      const b = `bench-${randomBytes(4).toString('hex')}`;
      await store.ensureBucket(b);
      return b;
    };
    const emptyBucket = async (b: string) => {
      for await (const page of store.list(b)) for (const o of page) await store.delete(b, o.key);
    };

    const bareLoop = async () => {
      const bucket = await freshBucket();
      const t0 = performance.now();
      let next = 0;
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          while (next < files.length) {
            const path = files[next++]!;
            await new Upload({ client, params: { Bucket: bucket, Key: path.slice(dir.length + 1), Body: createReadStream(path) }, partSize: PART, queueSize: QUEUE }).done();
          }
        }),
      );
      bare.push(seconds(t0));
      await emptyBucket(bucket);
    };

    const importRun = async () => {
      const bucket = await freshBucket();
      // The command as a user runs it, in this process: config from this environment.
      const env = { ...t.env, BUCKET_SOURCE: bucket };
      const saved = { ...process.env };
      Object.assign(process.env, env);
      let out = '';
      let err = '';
      const t0 = performance.now();
      let code: number;
      try {
        code = await main(
          ['node', 'vigil', 'import', dir, '--regex', '.*/(?P<camera>\\w+?)\\-(?P<epoch>\\d+)\\.mp4', '--settle', '0', '--concurrency', String(CONCURRENCY), '--json'],
          { out: (s) => (out += s), err: (s) => (err += s) },
        );
      } finally {
        for (const k of Object.keys(env)) delete process.env[k];
        Object.assign(process.env, saved);
      }
      const elapsed = seconds(t0);
      const doc = JSON.parse(out || '{}') as { uploaded?: number; published?: number };
      if (code !== 0 || doc.uploaded !== FILES || doc.published !== FILES) throw new Error(`import failed (exit ${code}): ${out}${err.slice(-2000)}`);
      imported.push(elapsed);
      await drainQueue(`${t.prefix}transcoder`);
      await emptyBucket(bucket);
      // A new bucket is a new import job: every file is read, hashed and uploaded again.
    };

    for (let r = 0; r < ROUNDS; r++) {
      await bareLoop();
      await importRun();
    }

    // The median: one run slowed by something else on a 2-core host does not decide it.
    const bareRate = totalMb / median(bare);
    const importRate = totalMb / median(imported);
    const runs = (xs: number[]) => xs.map((x) => x.toFixed(1)).join(', ');
    printTable(
      `Import: ${FILES} files of ${FILE_MB} MiB (${(totalMb / 1000).toFixed(2)} GB) to s3rver, ${CONCURRENCY} files at once, ${PART / 1024 / 1024} MiB parts x ${QUEUE}, ${availableParallelism()} cores, median of ${ROUNDS} alternating runs`,
      ['pipeline', 'seconds (runs)', 'MB/s', 'ratio'],
      [
        ['bare @aws-sdk/lib-storage loop: upload only', `${median(bare).toFixed(1)} (${runs(bare)})`, bareRate.toFixed(1), '1.00'],
        ['vigil import: walk, regex, upload + SHA-256 from the same read, DB rows, a transcoder job per file', `${median(imported).toFixed(1)} (${runs(imported)})`, importRate.toFixed(1), (importRate / bareRate).toFixed(2)],
      ],
    );
    const ratio = importRate / bareRate;
    console.log(`target: import at least 0.9x the bare loop's rate: ${ratio.toFixed(2)}x, ${ratio >= 0.9 ? 'met' : 'NOT met'}`);
  } finally {
    client.destroy();
    store.close();
    await t.cleanup();
    await s3.close();
    await rm(work, { recursive: true, force: true });
  }
}

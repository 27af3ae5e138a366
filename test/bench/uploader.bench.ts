// Issue 14 benchmark: the uploader's Facebook transfer of a generated 500 MB file, from
// s3rver through the service (publish a job, wait for the row done) to the local Graph API
// server, next to a bare chunked loop over the same file (read locally) and server, run
// before and after the service in the same run (their mean is the baseline). A second
// reference is the same bare loop reading each asked range from the same s3rver object
// (one ranged GET per chunk, nothing else): what reading from S3 costs on this host, apart
// from the service. Also the service's peak RSS growth while it uploads: the video is
// streamed chunk by chunk, never held whole. BENCH_UPLOADER_MB sets the size.
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { uploadKeyHash } from '../../db/repositories/uploader.repository.ts';
import { loadConfig } from '../../services/config.ts';
import { CODECS, type UploadJob } from '../../shared/contract/messages.ts';
import { createObjectStore } from '../../shared/storage/object-store.ts';
import { service as uploader } from '../../services/uploader/main.ts';
import { startGraphApiServerProcess, type GraphApiServerProcess } from '../helpers/graph-api-server-process.ts';
import { captureLogger, publishRaw, startApp } from '../helpers/runtime-harness.ts';
import { startS3Server } from '../helpers/s3-server.ts';
import { createTestEnv } from '../helpers/test-env.ts';
import { bareChunkedLoop, bareLoop } from './facebook-plain-loop.ts';
import { printTable } from './table.ts';
import { cpuMeter, describeCpu, type CpuReading } from './process-cpu.ts';

const MB = 1_000_000;
const SIZE_MB = Number(process.env.BENCH_UPLOADER_MB ?? 500);
const TARGET_RATIO = 0.9;
const TARGET_RSS_MB = 150;

const seconds = (since: number) => (performance.now() - since) / 1000;

/** Writes `bytes` random bytes; returns their hex SHA-256, which every upload must match. */
async function generate(path: string, bytes: number): Promise<string> {
  const out = createWriteStream(path);
  const hash = createHash('sha256');
  const block = 8 * 1024 * 1024;
  for (let written = 0; written < bytes; written += block) {
    const data = randomBytes(Math.min(block, bytes - written));
    hash.update(data);
    if (!out.write(data)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  return hash.digest('hex');
}

/** Every row's video must have arrived whole and unchanged: the server's SHA-256 of what it received is the file's. */
async function checkArrived(graph: GraphApiServerProcess, videoId: string, bytes: number, sha256: string, row: string): Promise<void> {
  const v = await graph.video(videoId);
  if (v?.received !== bytes || v.sha256 !== sha256) throw new Error(`${row}: the Graph server did not get the file (${v?.received ?? 0} of ${bytes} bytes, sha256 ${v?.sha256 ?? 'none'})`);
}

/** Samples this process's RSS every 20 ms until stopped; the peak above the level at start, in MiB. */
function rssSampler(): { stop(): number } {
  // memoryUsage.rss(), not memoryUsage(): the latter walks the V8 heap, 50 times a second
  // (measured: it slowed the row it samples).
  const base = process.memoryUsage.rss();
  let peak = base;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 20);
  return {
    stop() {
      clearInterval(timer);
      peak = Math.max(peak, process.memoryUsage.rss());
      return (peak - base) / 2 ** 20;
    },
  };
}

export async function benchUploader(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'vigil-bench-uploader-'));
  const s3 = await startS3Server();
  // Every row talks to the same server in its own process, as a remote one would be: its
  // parsing and hashing of every byte do not share the bench's event loop.
  const graph = await startGraphApiServerProcess();
  const bucket = `mp4-${randomBytes(3).toString('hex')}`;
  const t = await createTestEnv('benchuploader', {
    ...s3.env,
    BUCKET_VIDEO: bucket,
    FACEBOOK_GRAPH_URL: graph.base,
    FACEBOOK_API_VERSION: graph.apiVersion,
    FACEBOOK_PAGE_ID: graph.pageId,
    FACEBOOK_PAGE_TOKEN: graph.token,
    LOG_LEVEL: 'warn',
  });
  const store = createObjectStore(loadConfig(t.env).s3);
  try {
    const file = join(dir, 'talk.mp4');
    const bytes = SIZE_MB * MB;
    const sha256 = await generate(file, bytes);
    await store.ensureBucket(bucket);
    await store.upload(bucket, 'talk.mp4', file, { contentType: 'video/mp4' });

    const meter = cpuMeter({ graph: graph.pid });
    const cpu: Record<string, CpuReading[]> = { bare: [], s3: [], service: [] };
    const bare: number[] = [];
    const bareRun = async () => {
      const m = meter.start();
      const t0 = performance.now();
      const id = await bareChunkedLoop(file, graph);
      bare.push(seconds(t0));
      cpu.bare!.push(m.stop());
      await checkArrived(graph, id, bytes, sha256, 'bare loop');
    };
    await bareRun();
    const fromS3: number[] = [];
    const s3Run = async () => {
      const m = meter.start();
      const t0 = performance.now();
      const id = await bareLoop({ size: bytes, read: (from, to) => store.readRange(bucket, 'talk.mp4', from, to) }, graph);
      fromS3.push(seconds(t0));
      cpu.s3!.push(m.stop());
      await checkArrived(graph, id, bytes, sha256, 'bare loop from s3rver');
    };
    await s3Run();

    const { logger } = captureLogger('warn');
    const running = await startApp(loadConfig(t.env), [uploader], logger);
    let service: number;
    let rssMb: number;
    try {
      while (!running.consumers[0]!.attached) await sleep(50);
      const job: UploadJob = { source: { bucket, key: 'talk.mp4' }, title: 'Bench talk', targets: ['facebook'] };
      const hash = uploadKeyHash(CODECS.uploader.key(job)!, 'facebook');
      const db = t.database().db;
      global.gc?.();
      const rss = rssSampler();
      const m = meter.start();
      const t0 = performance.now();
      await publishRaw(`${t.prefix}uploader`, [CODECS.uploader.encode(job)]);
      let row;
      for (;;) {
        row = await db.selectFrom('upload').select(['status', 'last_error_code', 'last_error', 'remote_id']).where('key_sha256', '=', hash).executeTakeFirst();
        if (row?.status === 'done' || row?.status === 'failed' || row?.status === 'postponed') break;
        await sleep(20);
      }
      service = seconds(t0);
      cpu.service!.push(m.stop());
      rssMb = rss.stop();
      if (row.status !== 'done') throw new Error(`the service did not upload: ${row.status} ${row.last_error_code}: ${row.last_error}`);
      await checkArrived(graph, row.remote_id!, bytes, sha256, 'uploader service');
    } finally {
      await running.stop();
    }
    await s3Run();
    await bareRun();

    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const base = mean(bare);
    const s3Base = mean(fromS3);
    const rate = (s: number) => (SIZE_MB / s).toFixed(1);
    const ratio = base / service;
    printTable(
      `Uploader: Facebook resumable upload of a ${SIZE_MB} MB file to the local Graph API server (${graph.chunkSize / 2 ** 20} MiB chunks)`,
      ['pipeline', 'seconds', 'MB/s', 'ratio vs bare loop', 'peak RSS growth (MiB)'],
      [
        [`bare chunked loop: local file → start/transfer/finish (${bare.map((x) => x.toFixed(1)).join(' s, ')} s before and after the service)`, base.toFixed(1), rate(base), '1.00', '-'],
        [`bare chunked loop, each range a ranged GET from the same s3rver object (${fromS3.map((x) => x.toFixed(1)).join(' s, ')} s before and after)`, s3Base.toFixed(1), rate(s3Base), (base / s3Base).toFixed(2), '-'],
        ['uploader service: publish → row done (one streamed GET from s3rver, next chunk read ahead, session saved, permalink)', service.toFixed(1), rate(service), ratio.toFixed(2), rssMb.toFixed(0)],
      ],
    );
    console.log(`target: service at least ${TARGET_RATIO}x the bare loop's rate: ${ratio.toFixed(2)}x, ${ratio >= TARGET_RATIO ? 'met' : 'NOT met'}`);
    console.log(`service against the bare loop reading from s3rver: ${(s3Base / service).toFixed(2)}x`);
    console.log(`target: peak RSS growth under ${TARGET_RSS_MB} MiB: ${rssMb.toFixed(0)} MiB, ${rssMb < TARGET_RSS_MB ? 'met' : 'NOT met'}`);
    console.log(`CPU per process (mean per row): bare loop: ${describeCpu(cpu.bare!)}`);
    console.log(`  bare loop from s3rver: ${describeCpu(cpu.s3!)}`);
    console.log(`  uploader service: ${describeCpu(cpu.service!)}`);
  } finally {
    store.close();
    await t.cleanup();
    await graph.close();
    await s3.close();
    await rm(dir, { recursive: true, force: true });
  }
}

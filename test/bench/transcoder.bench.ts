// Issue 6 benchmark: the transcoder service on the 5-minute XviD/MP3 AVI, from publish to
// source deleted (download, probe, the one ffmpeg pass, verification, every upload to
// s3rver), next to two references timed in the same run on local files without uploads:
// (1) the seed's way, (2) the single ffmpeg command the service runs. Same encode settings.
import { mkdir, mkdtemp, readdir, rm, unlink } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { jobKeyHash } from '../../db/repositories/transcoder.repository.ts';
import { loadConfig } from '../../shared/config/config.ts';
import { buildTranscodeAndFramesArgs, h264AacArgs, secs, type H264Options } from '../../shared/media/ffmpeg-args.ts';
import { runFfmpeg } from '../../shared/media/ffmpeg-runner.ts';
import { probeVideo } from '../../shared/media/ffprobe.ts';
import { fileUrl } from '../../shared/media/input-safety.ts';
import { CODECS } from '../../shared/contract/messages.ts';
import { createObjectStore } from '../../shared/storage/object-store.ts';
import { service as transcoder } from '../../services/transcoder/main.ts';
import { captureLogger, publishRaw, startApp } from '../helpers/runtime-harness.ts';
import { startS3Server } from '../helpers/s3-server.ts';
import { createTestEnv } from '../helpers/test-env.ts';
import { FIVE_MINUTES, makeAvi } from '../helpers/videos.ts';
import { printTable } from './table.ts';

const SIZE = process.env.BENCH_TRANSCODER_SIZE ?? '640x480';
const FPS = 25;
const RUN = { timeoutMs: 3_600_000, stallMs: 120_000 };

const seconds = (since: number) => (performance.now() - since) / 1000;

/** (1) The seed's way: AVI → MP4, each 2-minute clip re-encoded from that MP4, every frame a JPEG, 9 of 10 deleted. */
async function seedWay(input: string, dir: string, encode: H264Options, duration: number): Promise<number> {
  const t0 = performance.now();
  const full = join(dir, 'full.mp4');
  await runFfmpeg(['-y', '-i', fileUrl(input), ...h264AacArgs(encode), '-movflags', '+faststart', fileUrl(full)], RUN);
  for (let k = 0; k * 120 < duration; k++) {
    const clip = join(dir, `clip_${k}.mp4`);
    await runFfmpeg(['-y', '-ss', secs(k * 120), '-t', '120', '-i', fileUrl(full), ...h264AacArgs(encode), '-movflags', '+faststart', fileUrl(clip)], RUN);
  }
  const frames = join(dir, 'frames');
  await mkdir(frames);
  await runFfmpeg(['-y', '-i', fileUrl(full), '-fps_mode', 'passthrough', '-q:v', '3', '-start_number', '0', fileUrl(join(frames, 'f_%06d.jpg'))], RUN);
  for (const f of await readdir(frames)) if (Number(f.slice(2, 8)) % 10 !== 0) await unlink(join(frames, f));
  return seconds(t0);
}

/** (2) The one command: transcode, split at forced keyframes, every 10th frame with dead-frame detection. */
async function oneCommand(input: string, dir: string, encode: H264Options, duration: number, blurThreshold: number): Promise<number> {
  const outDir = join(dir, 'clips');
  const framesDir = join(dir, 'frames');
  await mkdir(outDir);
  await mkdir(framesDir);
  const { args } = buildTranscodeAndFramesArgs({ ...encode, input, durationSeconds: duration, outDir, stem: 'bench', framesDir, frames: { dead: { blurThreshold } } });
  const t0 = performance.now();
  await runFfmpeg(args, RUN);
  return seconds(t0);
}

export async function benchTranscoder(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'vigil-bench-transcoder-'));
  const s3 = await startS3Server();
  const bucket = (p: string) => `${p}-${randomBytes(3).toString('hex')}`;
  const SRC = bucket('src');
  const t = await createTestEnv('benchtranscoder', {
    ...s3.env, BUCKET_SOURCE: SRC, BUCKET_VIDEO: bucket('mp4'), BUCKET_FRAMES: bucket('img'), VIGIL_WORK_DIR: join(dir, 'work'), LOG_LEVEL: 'info',
  });
  try {
    const input = join(dir, 'five.avi');
    await makeAvi(input, { sections: FIVE_MINUTES, size: SIZE, fps: FPS });
    const duration = (await probeVideo(input)).durationSeconds;
    const config = loadConfig(t.env);
    const encode: H264Options = { preset: config.transcoder.encode.preset, crf: config.transcoder.encode.crf };

    const seed = await seedWay(input, await mkdtemp(join(dir, 'seed-')), encode, duration);
    const one = await oneCommand(input, await mkdtemp(join(dir, 'one-')), encode, duration, config.transcoder.dead.blurThreshold);

    const store = createObjectStore(config.s3);
    await store.ensureBucket(SRC);
    await store.upload(SRC, 'cam1/1511893800.avi', input);
    const { logger, lines } = captureLogger('info');
    const running = await startApp(config, [transcoder], logger);
    const db = t.database().db;
    let service: number;
    let row;
    try {
      while (!running.consumers[0]!.attached) await sleep(50);
      const t0 = performance.now();
      await publishRaw(`${t.prefix}transcoder`, [CODECS.transcoder.encode({ source: { bucket: SRC, key: 'cam1/1511893800.avi' } })]);
      const hash = jobKeyHash(`s3:${SRC}/cam1/1511893800.avi`);
      for (;;) {
        row = await db.selectFrom('video_job').selectAll().where('job_key_sha256', '=', hash).executeTakeFirst();
        if (row?.status === 'done' || row?.status === 'failed') break;
        await sleep(50);
      }
      service = seconds(t0);
      if (row.status !== 'done') throw new Error(`the service failed: ${row.error_code}: ${row.error_message}`);
      if (await store.exists(SRC, 'cam1/1511893800.avi')) throw new Error('the source was not deleted');
    } finally {
      await running.stop();
      store.close();
    }
    const stored = lines.find((l) => l.msg === 'video job outputs stored');

    const ratio = (x: number, base: number) => (x / base).toFixed(2);
    printTable(
      `Transcoder: 5-minute XviD/MP3 AVI, ${SIZE} at ${FPS} fps, libx264 ${encode.preset} crf ${encode.crf} + AAC, ${availableParallelism()} cores`,
      ['pipeline', 'seconds', 'ratio vs (1)', 'ratio vs (2)'],
      [
        ['(1) seed: AVI→MP4, re-encode each clip from it, every frame as JPEG, keep every 10th (no upload)', seed.toFixed(1), '1.00', ratio(seed, one)],
        ['(2) one ffmpeg command: clips + every 10th frame + dead-frame detection (no upload)', one.toFixed(1), ratio(one, seed), '1.00'],
        ['transcoder service: publish → source deleted (download, pass, verify, uploads to s3rver)', service.toFixed(1), ratio(service, seed), ratio(service, one)],
      ],
    );
    console.log(
      `service detail: download ${row.download_ms} ms, ffmpeg ${row.ffmpeg_ms} ms, uploads left after ffmpeg ${stored?.afterFfmpegMs ?? '?'} ms, ` +
        `clips stored while encoding ${stored?.clipsStoredDuringEncode ?? '?'} of ${stored?.clips ?? '?'}, frames kept ${row.frames_kept} ` +
        `(dropped: black ${row.frames_black}, frozen ${row.frames_frozen}, blurred ${row.frames_blurred})`,
    );
    const faster = seed / service;
    const overOne = service / one;
    console.log(`target: service at least 1.5x faster than (1): ${faster.toFixed(2)}x, ${faster >= 1.5 ? 'met' : 'NOT met'}`);
    console.log(`target: service at most 1.3x the time of (2): ${overOne.toFixed(2)}x, ${overOne <= 1.3 ? 'met' : 'NOT met'}`);
  } finally {
    await t.cleanup();
    await s3.close();
    await rm(dir, { recursive: true, force: true });
  }
}

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { buildTranscodeArgs } from '../../shared/media/ffmpeg-args.ts';
import type { FfmpegProgress } from '../../shared/media/ffmpeg-progress.ts';
import { runFfmpeg } from '../../shared/media/ffmpeg-runner.ts';
import { probeMedia, probeVideo } from '../../shared/media/ffprobe.ts';
import { isFastStart, readTopLevelBoxes } from '../../shared/media/mp4-verify.ts';
import { liveFfmpegGroups } from '../../shared/media/process-group.ts';
import { trimWithFades } from '../../services/transcoder/trim.ts';
import { PermanentError, TransientError, VigilError } from '../../shared/errors.ts';
import { expectedFrames, FIVE_MINUTES, frameLumas, makeTestAvis } from '../helpers/videos.ts';
import { startRecordingServer } from '../helpers/recording-server.ts';
import type { VideoJob } from '../../shared/contract/messages.ts';
import { runPipeline } from '../helpers/pipeline-run.ts';
import { decoderPixelBound } from '../../shared/media/media-limits.ts';
import { safeInputArgs } from '../../shared/media/input-safety.ts';

const FAST = { preset: 'ultrafast' } as const;
/** Blur threshold for 320×240 test frames: sharp ones measure ~5, the blurred section ~20. */
const DEAD = { blurThreshold: 12 };

let dir: string;
let five: string;
let minute: string;
let talk: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vigil-ffmpeg-'));
  ({ five, minute, talk } = await makeTestAvis(dir, '1511893800.avi'));
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

function isCode(code: string, kind: typeof PermanentError | typeof TransientError = PermanentError) {
  return (err: unknown): boolean => {
    assert.ok(err instanceof kind, `expected ${kind.name} ${code}, got ${String(err)}`);
    assert.equal((err as VigilError).code, code, (err as Error).message);
    return true;
  };
}

/** Members of a process group that still run (zombies waiting for PID 1 to reap them do not). */
async function liveMembers(pgid: number): Promise<string[]> {
  const out: string[] = [];
  for (const pid of (await readdir('/proc')).filter((p) => /^\d+$/.test(p))) {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(fields[2]) === pgid && fields[0] !== 'Z' && fields[0] !== 'X') out.push(`${pid} ${stat.slice(0, stat.lastIndexOf(')') + 1)}`);
  }
  return out;
}

async function waitMembers(pgid: number, n: number): Promise<void> {
  const deadline = Date.now() + 3000;
  while ((await liveMembers(pgid)).length < n) {
    assert.ok(Date.now() < deadline, `process group ${pgid} never had ${n} members`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function assertGroupGone(pgid: number): Promise<void> {
  const deadline = Date.now() + 3000;
  let members = await liveMembers(pgid);
  while (members.length > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    members = await liveMembers(pgid);
  }
  assert.deepEqual(members, [], `process group ${pgid} still runs`);
  // Whatever is left is a zombie: signals to the group can no longer do anything.
  assert.ok(!liveFfmpegGroups().includes(pgid));
}

/** The production pipeline on a local file, into a folder store of this file's folder. */
function transcode(input: string, key: string, name: string, job: Omit<VideoJob, 'source'> = {}) {
  return runPipeline({ input, key, job, workDir: join(dir, `job-${name}`), storeRoot: join(dir, `store-${name}`), encode: FAST, dead: DEAD });
}

test('a 5-minute XviD/MP3 AVI: 3 clips (120, 120, 60 s) and every 10th frame minus the dead ones, one ffmpeg pass', async () => {
  const { info: source, res, workDir, store, progress, progressAtEncoded } = await transcode(five, 'cam1/1511893800.avi', 'five');

  assert.equal(source.formatName, 'avi');
  assert.equal(source.video.codec, 'mpeg4');
  const names = ['1511893800_000.mp4', '1511893800_001.mp4', '1511893800_002.mp4'];
  assert.deepEqual(res.clips.map((c) => c.key), names);
  assert.deepEqual(await store.keys('video'), names);
  const expected = [120, 120, 60];
  for (const [i, clip] of res.clips.entries()) {
    const path = store.path(clip.bucket, clip.key);
    const info = await probeMedia(path, { formatWhitelist: ['mov'] });
    assert.ok(Math.abs(info.durationSeconds - expected[i]!) < 0.3, `${clip.key}: ${info.durationSeconds} s`);
    assert.equal(info.video?.codec, 'h264');
    assert.equal(info.video?.pixFmt, 'yuv420p');
    assert.equal(info.audio?.codec, 'aac');
    const boxes = await readTopLevelBoxes(path);
    assert.ok(isFastStart(boxes), `${clip.key}: ${boxes.map((b) => b.type).join(',')}`);
  }

  const want = expectedFrames(FIVE_MINUTES, 10, 10);
  assert.deepEqual(want, { sampled: 300, kept: 151, dropped: { black: 30, frozen: 59, blurred: 60 } });
  assert.deepEqual(res.frames?.counts, { kept: want.kept, dropped: want.dropped });
  assert.deepEqual([res.frames?.bucket, res.frames?.prefix, res.frames?.every], ['frames', '1511893800/', 10]);
  // Zero-padded names sort in source frame order.
  const kept = await store.keys('frames');
  assert.equal(kept.length, want.kept);
  assert.equal(kept[0], '1511893800/1511893800_f000000.jpg');
  assert.deepEqual(kept.slice(59, 62).map((k) => Number(/_f(\d+)\.jpg$/.exec(k)![1])), [590, 900, 2100]);
  assert.equal(kept.at(-1), '1511893800/1511893800_f002990.jpg');
  const jpegs = (await readdir(join(workDir, 'frames'))).filter((f) => f.endsWith('.jpg'));
  assert.deepEqual(jpegs, [], 'dead JPEGs are deleted, and kept ones once stored');
  assert.ok(res.frames!.storedDuringEncode <= want.kept);
  const jpeg = await probeMedia(store.path('frames', kept[0]!), { formatWhitelist: ['image2', 'jpeg_pipe'] });
  assert.deepEqual([jpeg.video?.width, jpeg.video?.height], [320, 240]);

  assert.ok(progress.length >= 2, `${progress.length} progress blocks`);
  assert.equal(progressAtEncoded, progress.length, 'the last progress block came before ffmpeg exited');
  assert.ok(Math.abs((progress.at(-1) ?? 0) - 300) < 1);
});

test('a 60 s AVI becomes one <stem>.mp4, all of its every-10th frames kept', async () => {
  const { res, store } = await transcode(minute, 'cam1.avi', 'minute');
  assert.equal(res.clips.length, 1);
  assert.equal(res.clips[0]?.key, 'cam1.mp4');
  assert.deepEqual(await store.keys('video'), ['cam1.mp4']);
  const path = store.path('video', 'cam1.mp4');
  const info = await probeMedia(path, { formatWhitelist: ['mov'] });
  assert.ok(Math.abs(info.durationSeconds - 60) < 0.3);
  assert.ok(isFastStart(await readTopLevelBoxes(path)));
  assert.deepEqual(res.frames?.counts, { kept: 60, dropped: { black: 0, frozen: 0, blurred: 0 } });
});

async function meanVolumeDb(path: string, start: number, seconds: number): Promise<number> {
  const res = await runFfmpeg(['-ss', String(start), '-t', String(seconds), '-i', path, '-map', '0:a', '-af', 'volumedetect', '-f', 'null', '-'], { logLevel: 'info' });
  const m = /mean_volume: (-?[\d.]+|-inf) dB/.exec(res.stderrTail);
  assert.ok(m, res.stderrTail);
  return m[1] === '-inf' ? -Infinity : Number(m[1]);
}

test('a trim with fades: start..end long, first and last frames dark, sound faded in and out', async () => {
  const output = join(dir, 'trimmed.mp4');
  const res = await trimWithFades({ input: talk, output, start: 5, end: 25, fadeSeconds: 3, encode: FAST });
  assert.equal(res.durationSeconds, 20);
  const info = await probeMedia(output, { formatWhitelist: ['mov'] });
  assert.ok(Math.abs(info.durationSeconds - 20) < 0.3, `${info.durationSeconds} s`);
  assert.equal(info.audio?.codec, 'aac');
  const lumas = await frameLumas(output, join(dir, 'trimmed.gray'));
  assert.ok(Math.abs(lumas.length - 200) <= 1, `${lumas.length} frames`);
  const mid = lumas[100]!;
  assert.ok(lumas[0]! < 20, `first frame luma ${lumas[0]}`);
  assert.ok(lumas.at(-1)! < 25, `last frame luma ${lumas.at(-1)}`);
  assert.ok(mid > 60, `middle frame luma ${mid}`);
  assert.ok(lumas[15]! > lumas[0]! && lumas[15]! < mid, 'half way through the fade-in');
  const quiet = await meanVolumeDb(output, 0, 0.1);
  const loud = await meanVolumeDb(output, 10, 1);
  assert.ok(quiet < loud - 20, `fade-in ${quiet} dB against ${loud} dB`);
});

test('a text file named .avi, random bytes and an audio-only AVI are NOT_A_VIDEO (permanent)', async () => {
  const text = join(dir, 'notes.avi');
  await writeFile(text, 'this is not a video\n'.repeat(50));
  const random = join(dir, 'random.avi');
  await writeFile(random, Buffer.from(Array.from({ length: 65536 }, (_, i) => (i * 7919 + 13) % 251)));
  const truncatedHeader = join(dir, 'truncated.avi');
  await writeFile(truncatedHeader, (await readFile(five)).subarray(0, 300));
  const audioOnly = join(dir, 'audio.avi');
  await runFfmpeg(['-f', 'lavfi', '-i', 'sine=d=2', '-c:a', 'libmp3lame', '-f', 'avi', audioOnly], { logLevel: 'error' });
  for (const file of [text, random, truncatedHeader, audioOnly]) {
    await assert.rejects(probeVideo(file), isCode('NOT_A_VIDEO'), file);
  }
  // The service probes before it runs ffmpeg: test/integration/transcoder.test.ts ("bad sources
  // fail for good") runs this text file as a job and sees NOT_A_VIDEO, not retried.
});

test('playlists disguised as AVI never make ffmpeg fetch a URL or read another local file', async () => {
  const server = await startRecordingServer();
  const base = server.base;
  try {
    const files: Record<string, string> = {
      'hls-media.avi': `#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXT-X-MEDIA-SEQUENCE:0\n#EXTINF:10.0,\n${base}/seg0.ts\n#EXT-X-ENDLIST\n`,
      'hls-master.avi': `#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=100000\n${base}/variant.m3u8\n`,
      'ffconcat.avi': `ffconcat version 1.0\nfile ${base}/part.avi\n`,
      'hls-local.avi': `#EXTM3U\n#EXT-X-TARGETDURATION:60\n#EXT-X-MEDIA-SEQUENCE:0\n#EXTINF:60.0,\n${minute}\n#EXT-X-ENDLIST\n`,
    };
    for (const [name, body] of Object.entries(files)) {
      const path = join(dir, name);
      await writeFile(path, body);
      await assert.rejects(probeVideo(path), (err: unknown) => {
        isCode('NOT_A_VIDEO')(err);
        assert.match((err as Error).message, /not on whitelist/);
        return true;
      }, name);
      // ffmpeg itself, given the same file without a probe first, refuses it the same way.
      const { args } = buildTranscodeArgs({ input: path, durationSeconds: 10, outDir: dir, stem: 'x', ...FAST });
      await assert.rejects(runFfmpeg(args), (err: unknown) => {
        isCode('FFMPEG_FAILED')(err);
        assert.match((err as Error).message, /not on whitelist/);
        assert.ok((err as Error).message.split('\n').length <= 16, 'only the stderr tail is in the message');
        return true;
      }, name);
    }
    // Why the demuxer whitelist: with HLS allowed, the file protocol alone lets a playlist
    // pull another local file into the output. HTTP stays blocked by the protocol whitelist.
    const local = await probeMedia(join(dir, 'hls-local.avi'), { formatWhitelist: ['hls', 'avi'] });
    assert.equal(local.formatName, 'hls');
    assert.ok(local.durationSeconds > 0);
    await assert.rejects(probeMedia(join(dir, 'hls-media.avi'), { formatWhitelist: ['hls', 'mpegts'] }), isCode('NOT_A_VIDEO'));
    await server.assertUntouched();
  } finally {
    server.close();
  }
});

async function fifo(name: string): Promise<string> {
  const path = join(dir, name);
  await promisify(execFile)('mkfifo', [path]);
  return path;
}

/** ffmpeg blocks opening a FIFO nobody writes to: no progress ever. */
async function stuckArgs(name: string): Promise<string[]> {
  return ['-i', `file:${await fifo(name)}`, '-f', 'null', '-'];
}

test('the stall watchdog kills a stalled ffmpeg with its whole process group', async () => {
  const run = runFfmpeg(await stuckArgs('stall.fifo'), { stallMs: 400 });
  const [pgid] = liveFfmpegGroups();
  assert.ok(pgid !== undefined);
  await waitMembers(pgid, 3); // sh, its guard subshell, ffmpeg
  const started = Date.now();
  await assert.rejects(run, isCode('FFMPEG_STALLED', TransientError));
  assert.ok(Date.now() - started < 3000);
  await assertGroupGone(pgid);
});

test('the hard time limit kills ffmpeg even while it makes progress', async () => {
  const progress: FfmpegProgress[] = [];
  const run = runFfmpeg(['-re', '-f', 'lavfi', '-i', 'testsrc2=s=64x48:r=10:d=30', '-f', 'null', '-'], { timeoutMs: 1500, stallMs: 1000, onProgress: (p) => progress.push(p) });
  const [pgid] = liveFfmpegGroups();
  await assert.rejects(run, isCode('FFMPEG_TIMEOUT', TransientError));
  assert.ok(progress.length >= 1 && (progress.at(-1)?.outTimeSeconds ?? 0) > 0, 'it was moving, so no stall');
  await assertGroupGone(pgid!);
});

test('an abort signal kills the group; an aborted signal does not start ffmpeg', async () => {
  const ac = new AbortController();
  const run = runFfmpeg(await stuckArgs('abort.fifo'), { signal: ac.signal, stallMs: 0 });
  const [pgid] = liveFfmpegGroups();
  setTimeout(() => ac.abort(new Error('shutting down')), 200);
  await assert.rejects(run, isCode('FFMPEG_ABORTED', TransientError));
  await assertGroupGone(pgid!);
  await assert.rejects(runFfmpeg(['-version'], { signal: ac.signal }), isCode('FFMPEG_ABORTED', TransientError));
  assert.deepEqual(liveFfmpegGroups(), []);
});

test('failures: a missing binary is transient, a full disk is transient, bad arguments are permanent', async () => {
  await assert.rejects(runFfmpeg(['-version'], { ffmpegPath: join(dir, 'no-ffmpeg') }), isCode('FFMPEG_NOT_FOUND', TransientError));
  await assert.rejects(runFfmpeg(['-y', '-f', 'lavfi', '-i', 'testsrc2=s=320x240:d=5', '-f', 'rawvideo', 'file:/dev/full']), (err: unknown) => {
    isCode('FFMPEG_FAILED', TransientError)(err);
    assert.match((err as Error).message, /No space left on device/);
    return true;
  });
  await assert.rejects(runFfmpeg(['-f', 'lavfi', '-i', 'testsrc2=d=1', '-c:v', 'no_such_encoder', '-f', 'null', '-']), isCode('FFMPEG_FAILED'));
});

test('bounds: past its memory limit ffmpeg fails for good naming the limit; the decoder refuses pictures over -max_pixels', async () => {
  // A 1080p x264 encode needs more than 400 MiB of address space, and well under 2 GiB.
  const encode = ['-y', '-f', 'lavfi', '-i', 'testsrc2=s=1920x1080:r=25:d=1', '-c:v', 'libx264', '-preset', 'veryfast', '-f', 'null', '-'];
  await assert.rejects(runFfmpeg(encode, { memoryLimitBytes: 400 * 1024 ** 2, memoryLimitName: 'TRANSCODER_MAX_MEMORY' }), (err: unknown) => {
    isCode('FFMPEG_MEMORY_LIMIT', PermanentError)(err);
    assert.match((err as Error).message, /ran out of the 0\.4 GiB of memory TRANSCODER_MAX_MEMORY allows/);
    return true;
  });
  await runFfmpeg(encode, { memoryLimitBytes: 2 * 1024 ** 3 });
  // minute.avi is 320×240: padded, the decoder wants more than 76,800 pixels.
  await assert.rejects(runFfmpeg([...safeInputArgs(minute, { maxDecodePixels: 50_000 }), '-t', '1', '-f', 'null', '-']), (err: unknown) => {
    isCode('FFMPEG_FAILED', PermanentError)(err);
    assert.match((err as Error).message, /scratch buffers could not be allocated|exceeds specified max pixel count/);
    return true;
  });
  await runFfmpeg([...safeInputArgs(minute, { maxDecodePixels: decoderPixelBound({ maxPixels: 320 * 240 }) }), '-t', '1', '-f', 'null', '-']);
});

test('the stderr tail is bounded however much ffmpeg prints', async () => {
  const res = await runFfmpeg(['-f', 'lavfi', '-i', 'testsrc2=s=64x48:r=50:d=20', '-vf', 'showinfo', '-f', 'null', '-'], {
    logLevel: 'info',
    stderrTailBytes: 4096,
    onProgress: () => {
      throw new Error('a faulty callback');
    },
  });
  assert.ok(res.stderrTail.length <= 4096, `${res.stderrTail.length} bytes kept`);
  assert.match(res.stderrTail, /n: *999 /, 'the tail is the end of stderr');
  assert.doesNotMatch(res.stderrTail, /n: *0 /);
});

/** A node process that starts a stuck ffmpeg, prints its group id, then does `then`. */
async function childWithFfmpeg(then: string): Promise<{ pgid: number; child: ReturnType<typeof spawn> }> {
  const runner = new URL('../../shared/media/ffmpeg-runner.ts', import.meta.url).href;
  const groups = new URL('../../shared/media/process-group.ts', import.meta.url).href;
  const code = `
    import { runFfmpeg } from ${JSON.stringify(runner)};
    import { liveFfmpegGroups } from ${JSON.stringify(groups)};
    runFfmpeg(${JSON.stringify(await stuckArgs(`child-${Date.now()}.fifo`))}, { stallMs: 0 }).catch(() => {});
    console.log(liveFfmpegGroups()[0]);
    ${then}`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [line] = (await once(child.stdout!, 'data')) as [Buffer];
  const pgid = Number(line.toString().trim());
  assert.ok(pgid > 0, line.toString());
  return { pgid, child };
}

test('no orphan ffmpeg when the parent exits through process.exit (SIGTERM path)', async () => {
  const { pgid, child } = await childWithFfmpeg(`process.on('SIGTERM', () => process.exit(0)); setInterval(() => {}, 1000);`);
  await waitMembers(pgid, 3);
  child.kill('SIGTERM');
  await once(child, 'exit');
  await assertGroupGone(pgid);
});

test('no orphan ffmpeg when the parent is SIGKILLed: the guard sees its pipe close', async () => {
  const { pgid, child } = await childWithFfmpeg(`setInterval(() => {}, 1000);`);
  await waitMembers(pgid, 3);
  child.kill('SIGKILL');
  await once(child, 'exit');
  await assertGroupGone(pgid);
});

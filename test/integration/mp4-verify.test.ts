// verifyMp4 reads an output's own index instead of starting ffprobe; these are real files
// from this machine's ffmpeg, each wrong in one way, next to what ffprobe says of them.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PermanentError } from '../../shared/errors.ts';
import { runFfmpeg } from '../../shared/media/ffmpeg-runner.ts';
import { probeMedia } from '../../shared/media/ffprobe.ts';
import { verifyMp4 } from '../../shared/media/mp4-verify.ts';

let dir: string;
const RUN = { timeoutMs: 60_000, stallMs: 30_000 };

/** A 4-second 160x120 MP4: H.264 yuv420p + AAC with faststart, unless `args` says otherwise. */
async function make(name: string, o: { video?: string[]; audio?: string[] | null; faststart?: boolean } = {}): Promise<string> {
  const path = join(dir, `${name}.mp4`);
  const audioIn = o.audio === null ? [] : ['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=44100'];
  const audioOut = o.audio === null ? ['-an'] : (o.audio ?? ['-c:a', 'aac']);
  await runFfmpeg(
    [
      '-y', '-f', 'lavfi', '-i', 'testsrc=size=160x120:rate=25', ...audioIn, '-t', '4',
      ...(o.video ?? ['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p']), ...audioOut,
      ...(o.faststart === false ? [] : ['-movflags', '+faststart']), path,
    ],
    RUN,
  );
  return path;
}

async function rejectsWith(path: string, expect: { durationSeconds: number; audio: boolean }, pattern: RegExp): Promise<void> {
  await assert.rejects(verifyMp4(path, expect), (err: unknown) => {
    assert.ok(err instanceof PermanentError, String(err));
    assert.equal(err.code, 'OUTPUT_INVALID');
    assert.match(err.message, pattern);
    return true;
  });
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vigil-mp4-verify-'));
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('a browser MP4 passes, with the duration ffprobe reads', async () => {
  for (const [name, video] of [
    ['high', undefined],
    ['baseline', ['-c:v', 'libx264', '-preset', 'ultrafast', '-profile:v', 'baseline', '-pix_fmt', 'yuv420p']],
  ] as const) {
    const path = await make(name, { video: video ? [...video] : undefined });
    const { durationSeconds } = await verifyMp4(path, { durationSeconds: 4, audio: true });
    const probed = await probeMedia(path);
    assert.ok(Math.abs(durationSeconds - probed.durationSeconds) < 0.1, `${name}: ${durationSeconds} s, ffprobe ${probed.durationSeconds} s`);
    assert.equal(probed.video?.codec, 'h264');
    assert.equal(probed.video?.pixFmt, 'yuv420p');
  }
  // No audio is fine when the source had none.
  await verifyMp4(await make('silent', { audio: null }), { durationSeconds: 4, audio: false });
});

test('the wrong codec, pixel format, audio or length is refused, naming what is wrong', async () => {
  const expect = { durationSeconds: 4, audio: true };
  await rejectsWith(await make('mpeg4', { video: ['-c:v', 'mpeg4'] }), expect, /video codec mp4v, not h264/);
  await rejectsWith(await make('yuv444', { video: ['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv444p'] }), expect, /not yuv420p \(H\.264 profile 244, chroma format 3, 8-bit\)/);
  await rejectsWith(await make('ten-bit', { video: ['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p10le'] }), expect, /not yuv420p .*10-bit/);
  await rejectsWith(await make('mp3', { audio: ['-c:a', 'libmp3lame'] }), expect, /audio codec mp4a \(object type 0x6b\), not aac/);
  await rejectsWith(await make('no-audio', { audio: null }), expect, /audio codec missing, not aac/);
  await rejectsWith(await make('length'), { durationSeconds: 9, audio: true }, /duration 4(\.\d+)? s, expected 9/);
  await rejectsWith(await make('no-faststart', { faststart: false }), expect, /moov is not before mdat/);
});

test('a file cut short, with bytes after its last box, or a damaged index is refused', async () => {
  const expect = { durationSeconds: 4, audio: true };
  const good = await readFile(await make('whole'));
  const cut = join(dir, 'cut.mp4');
  await writeFile(cut, good.subarray(0, good.length - 1000));
  await rejectsWith(cut, expect, /cut short/);
  const trailing = join(dir, 'trailing.mp4');
  await writeFile(trailing, Buffer.concat([good, Buffer.from('garbage')]));
  await rejectsWith(trailing, expect, /trailing bytes/);

  // A box inside moov that claims more bytes than moov holds.
  const damaged = join(dir, 'damaged.mp4');
  await writeFile(damaged, good);
  const at = good.indexOf('mvhd', 0, 'latin1') - 4;
  assert.ok(at > 0);
  const fh = await open(damaged, 'r+');
  await fh.write(Buffer.from([0x7f, 0xff, 0xff, 0xff]), 0, 4, at);
  await fh.close();
  await rejectsWith(damaged, expect, /unreadable index: box mvhd/);
});

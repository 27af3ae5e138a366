import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  buildFramesArgs,
  buildTranscodeAndFramesArgs,
  buildTranscodeArgs,
  buildTrimArgs,
  h264AacArgs,
  planClips,
  secs,
} from '../../shared/media/ffmpeg-args.ts';
import { escapeFilterPath, fileUrl, safeInputArgs } from '../../shared/media/input-safety.ts';
import { ffprobeArgs } from '../../shared/media/ffprobe.ts';
import { PermanentError } from '../../shared/errors.ts';

const SAFE_IN = ['-protocol_whitelist', 'file', '-format_whitelist', 'avi,mov,matroska,mpeg,mpegts,asf,flv', '-i', 'file:/in/cam.avi'];
const ENCODE = ['-c:v', 'libx264', '-preset', 'veryfast', '-crf', '23', '-pix_fmt', 'yuv420p', '-profile:v', 'high', '-threads', '0', '-c:a', 'aac', '-b:a', '128k'];

test('every input is read through the file protocol and whitelisted demuxers only', () => {
  assert.deepEqual(safeInputArgs('/in/cam.avi'), SAFE_IN);
  assert.deepEqual(safeInputArgs('a:b.avi', { formatWhitelist: ['avi'] }, ['-ss', '5']), [
    '-ss', '5', '-protocol_whitelist', 'file', '-format_whitelist', 'avi', '-i', 'file:a:b.avi',
  ]);
  assert.deepEqual(ffprobeArgs('/in/cam.avi'), ['-hide_banner', '-v', 'error', '-print_format', 'json', '-show_format', '-show_streams', ...SAFE_IN]);
  assert.equal(fileUrl('/x/y.mp4'), 'file:/x/y.mp4');
});

test('a filter option path is escaped for the option parser and then for the graph parser', () => {
  assert.equal(escapeFilterPath('/tmp/plain/meta.txt'), '/tmp/plain/meta.txt');
  assert.equal(escapeFilterPath('file:/a'), 'file\\\\:/a');
  assert.equal(escapeFilterPath("/it's"), "/it\\\\\\'s");
  assert.equal(escapeFilterPath('/a,b;c[d]'), '/a\\,b\\;c\\[d\\]');
  assert.equal(escapeFilterPath('/back\\slash'), '/back\\\\\\\\slash');
});

test('encoding is browser-safe H.264 yuv420p + AAC, preset and quality configurable', () => {
  assert.deepEqual(h264AacArgs(), ENCODE);
  const fast = h264AacArgs({ preset: 'ultrafast', crf: 30, audioBitrate: '64k', threads: 2 });
  assert.deepEqual(fast.slice(0, 6), ['-c:v', 'libx264', '-preset', 'ultrafast', '-crf', '30']);
  assert.ok(fast.includes('64k') && fast.join(' ').includes('-threads 2'));
});

test('seconds are printed without float noise', () => {
  assert.equal(secs(120), '120');
  assert.equal(secs(0.1 + 0.2), '0.3');
  assert.equal(secs(1830.0000001), '1830');
  assert.equal(secs(12.5), '12.5');
});

test('a video of at most maxSeconds is one <stem>.mp4; longer ones are cut every clipSeconds', () => {
  assert.deepEqual(planClips(240, 'cam', '/w'), {
    split: false,
    boundaries: [],
    clips: [{ index: 0, name: 'cam.mp4', path: '/w/video.mp4', startSeconds: 0, endSeconds: 240 }],
  });
  const five = planClips(300.1, '1511893800', '/w');
  assert.equal(five.split, true);
  assert.deepEqual(five.boundaries, [120, 240]);
  assert.deepEqual(
    five.clips.map((c) => [c.name, c.path, c.startSeconds, c.endSeconds]),
    [
      ['1511893800_000.mp4', '/w/clip_000.mp4', 0, 120],
      ['1511893800_001.mp4', '/w/clip_001.mp4', 120, 240],
      ['1511893800_002.mp4', '/w/clip_002.mp4', 240, 300.1],
    ],
  );
  assert.deepEqual(planClips(480, 'x', '/w').boundaries, [120, 240, 360]);
  assert.equal(planClips(480, 'x', '/w').clips.length, 4);
  assert.deepEqual(planClips(241, 'x', '/w').clips.at(-1)?.startSeconds, 240);
  assert.deepEqual(planClips(100, 'x', '/w', { maxSeconds: 60, clipSeconds: 30 }).boundaries, [30, 60, 90]);
  assert.equal(planClips(3000, 'x', '/w').clips[12]?.name, 'x_012.mp4');
  assert.throws(() => planClips(10, 'x', '/w', { clipSeconds: 0 }), (e: unknown) => e instanceof PermanentError && e.code === 'BAD_SPLIT');
});

test('a short video transcodes to one faststart MP4', () => {
  const { args, outputs } = buildTranscodeArgs({ input: '/in/cam.avi', durationSeconds: 60, outDir: '/w/clips', stem: 'cam' });
  assert.deepEqual(args, [
    '-y', ...SAFE_IN,
    '-filter_complex', '[0:v:0]scale=trunc(iw/2)*2:trunc(ih/2)*2[vclip]',
    '-map', '[vclip]', '-map', '0:a:0?',
    ...ENCODE, '-movflags', '+faststart', '-f', 'mp4', 'file:/w/clips/video.mp4',
  ]);
  assert.equal(outputs.split, false);
  assert.equal(outputs.segmentList, undefined);
  assert.equal(outputs.clips[0]?.name, 'cam.mp4');
});

test('a long video is split in the same pass: keyframes forced at the cut times, segment muxer with faststart', () => {
  const { args, outputs } = buildTranscodeArgs({ input: '/in/cam.avi', durationSeconds: 300, outDir: '/w/clips', stem: 'cam', preset: 'ultrafast' });
  const tail = args.slice(args.indexOf('-force_key_frames:v'));
  assert.deepEqual(tail, [
    '-force_key_frames:v', '120,240',
    '-f', 'segment', '-segment_times', '120,240', '-reset_timestamps', '1',
    '-segment_format', 'mp4', '-segment_format_options', 'movflags=+faststart',
    '-segment_list', 'file:/w/clips/clips.csv', '-segment_list_type', 'csv',
    'file:/w/clips/clip_%03d.mp4',
  ]);
  assert.equal(args.filter((a) => a === '-i').length, 1);
  assert.equal(outputs.segmentList, '/w/clips/clips.csv');
  assert.deepEqual(outputs.clips.map((c) => c.name), ['cam_000.mp4', 'cam_001.mp4', 'cam_002.mp4']);
});

test('frames: every Nth frame, scaled to fit, freezedetect before select, blackframe and blurdetect after', () => {
  const { args, outputs } = buildFramesArgs({ input: '/in/cam.avi', framesDir: '/w/frames' });
  assert.deepEqual(args, [
    '-y', ...SAFE_IN,
    '-filter_complex',
    "[0:v:0]freezedetect=n=-60dB:d=2,metadata=mode=print:direct=1:file=file\\\\:/w/frames/freeze.txt,select='not(mod(n\\,10))'," +
      "scale='min(1280,iw)':'min(720,ih)':force_original_aspect_ratio=decrease,blackframe=amount=0:threshold=32,blurdetect," +
      'metadata=mode=print:direct=1:file=file\\\\:/w/frames/sampled.txt[frames]',
    '-map', '[frames]', '-fps_mode', 'passthrough', '-c:v', 'mjpeg', '-q:v', '3', '-start_number', '0', '-f', 'image2',
    'file:/w/frames/f_%06d.jpg',
  ]);
  assert.deepEqual(outputs, {
    every: 10,
    dir: '/w/frames',
    pattern: 'f_%06d.jpg',
    freezeMetadata: '/w/frames/freeze.txt',
    sampledMetadata: '/w/frames/sampled.txt',
  });
});

test('frame options: size, upscale, quality, thresholds, detection off, a % in the folder', () => {
  const custom = buildFramesArgs({
    input: '/in/cam.avi', framesDir: '/w/50%', every: 5, width: 640, height: 480, upscale: true, jpegQuality: 2,
    dead: { freezeNoiseDb: -50, freezeMinSeconds: 1.5, blackPixelThreshold: 20 },
  });
  const graph = custom.args[custom.args.indexOf('-filter_complex') + 1]!;
  assert.match(graph, /freezedetect=n=-50dB:d=1\.5,/);
  assert.match(graph, /select='not\(mod\(n\\,5\)\)',scale=640:480:force_original_aspect_ratio=decrease,/);
  assert.match(graph, /blackframe=amount=0:threshold=20,/);
  assert.equal(custom.args.at(-1), 'file:/w/50%%/f_%06d.jpg');
  assert.ok(custom.args.includes('2'));
  const off = buildFramesArgs({ input: '/in/cam.avi', framesDir: '/w/f', dead: { enabled: false } });
  assert.equal(off.args[off.args.indexOf('-filter_complex') + 1], "[0:v:0]select='not(mod(n\\,10))',scale='min(1280,iw)':'min(720,ih)':force_original_aspect_ratio=decrease[frames]");
  assert.equal(off.outputs.sampledMetadata, undefined);
  for (const every of [0, 2.5, -1]) {
    assert.throws(() => buildFramesArgs({ input: '/i', framesDir: '/f', every }), (e: unknown) => e instanceof PermanentError && e.code === 'BAD_FRAMES');
  }
});

test('clips and frames share one input and one decode through split', () => {
  const { args, outputs } = buildTranscodeAndFramesArgs({
    input: '/in/cam.avi', durationSeconds: 300.1, outDir: '/w/clips', stem: 'cam', framesDir: '/w/frames', frames: { every: 10 },
  });
  assert.equal(args.filter((a) => a === '-i').length, 1);
  const graph = args[args.indexOf('-filter_complex') + 1]!;
  assert.ok(graph.startsWith('[0:v:0]split=2[vclip0][vframes];[vclip0]scale=trunc(iw/2)*2:trunc(ih/2)*2[vclip];[vframes]freezedetect='), graph);
  assert.ok(graph.endsWith('sampled.txt[frames]'));
  const clipMap = args.indexOf('[vclip]');
  const frameMap = args.indexOf('[frames]');
  assert.ok(clipMap > 0 && frameMap > clipMap);
  assert.equal(args[args.indexOf('-segment_list') + 1], 'file:/w/clips/clips.csv');
  assert.equal(args.at(-1), 'file:/w/frames/f_%06d.jpg');
  assert.equal(outputs.clips.clips.length, 3);
  assert.equal(outputs.frames.every, 10);
});

test('trim: seek before the input, fades at both ends of picture and sound, faststart', () => {
  const { args, outputs } = buildTrimArgs({ input: '/in/talk.mp4', output: '/w/talk.mp4', start: 12.5, end: 1830, hasAudio: true, durationSeconds: 2000 });
  assert.deepEqual(args, [
    '-y', '-ss', '12.5', '-t', '1817.5', ...SAFE_IN.slice(0, -1), 'file:/in/talk.mp4',
    '-filter_complex',
    '[0:v:0]scale=trunc(iw/2)*2:trunc(ih/2)*2,fade=t=in:st=0:d=3,fade=t=out:st=1814.5:d=3[v];[0:a:0]afade=t=in:st=0:d=3,afade=t=out:st=1814.5:d=3[a]',
    '-map', '[v]', '-map', '[a]', ...ENCODE, '-movflags', '+faststart', '-f', 'mp4', 'file:/w/talk.mp4',
  ]);
  assert.deepEqual(outputs, { path: '/w/talk.mp4', durationSeconds: 1817.5, fadeSeconds: 3 });
});

test('trim edge cases: clamped end, short cut, no audio, no fade, bad ranges', () => {
  const clamped = buildTrimArgs({ input: '/i', output: '/o', start: 10, end: 99, hasAudio: false, durationSeconds: 20, fadeSeconds: 2 });
  assert.equal(clamped.outputs.durationSeconds, 10);
  assert.ok(!clamped.args.includes('[a]'));
  assert.equal(clamped.args[clamped.args.indexOf('-filter_complex') + 1], '[0:v:0]scale=trunc(iw/2)*2:trunc(ih/2)*2,fade=t=in:st=0:d=2,fade=t=out:st=8:d=2[v]');
  const short = buildTrimArgs({ input: '/i', output: '/o', start: 0, end: 4, hasAudio: true });
  assert.equal(short.outputs.fadeSeconds, 2);
  const none = buildTrimArgs({ input: '/i', output: '/o', start: 0, end: 4, hasAudio: true, fadeSeconds: 0 });
  assert.equal(none.args[none.args.indexOf('-filter_complex') + 1], '[0:v:0]scale=trunc(iw/2)*2:trunc(ih/2)*2[v];[0:a:0]anull[a]');
  for (const [start, end, durationSeconds] of [[5, 5, undefined], [5, 2, undefined], [-1, 3, undefined], [30, 40, 20], [Number.NaN, 3, undefined]] as const) {
    assert.throws(
      () => buildTrimArgs({ input: '/i', output: '/o', start, end, hasAudio: true, durationSeconds }),
      (e: unknown) => e instanceof PermanentError && e.code === 'BAD_TRIM',
    );
  }
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProgressReader, progressAdvanced, progressFromBlock } from '../../shared/media/ffmpeg-progress.ts';
import {
  countVerdicts,
  freezeIntervals,
  judgeFrames,
  parseMetadataPrint,
} from '../../shared/media/frame-select.ts';
import { clipObjectName, frameObjectName, isClipName } from '../../shared/media/output-names.ts';
import { parseSegmentList } from '../../shared/media/segment-list.ts';
import { parseProbeJson, requireVideo } from '../../shared/media/ffprobe.ts';
import { OutputTail } from '../../shared/media/output-tail.ts';
import { isFastStart } from '../../shared/media/mp4-verify.ts';
import { PermanentError } from '../../shared/errors.ts';

const BLOCK = `frame=1200
fps=665.48
stream_0_0_q=-1.0
bitrate=N/A
total_size=N/A
out_time_us=120048254
out_time_ms=120048254
out_time=00:02:00.048254
dup_frames=1
drop_frames=0
speed=66.5x
progress=continue
`;

test('progress blocks are read across arbitrary chunk boundaries', () => {
  const reader = new ProgressReader();
  const text = BLOCK + BLOCK.replace('continue', 'end').replace(/120048254/g, '300000000');
  const got = [];
  for (let i = 0; i < text.length; i += 7) got.push(...reader.push(text.slice(i, i + 7)));
  assert.equal(got.length, 2);
  assert.equal(got[0]?.frame, 1200);
  assert.equal(got[0]?.fps, 665.48);
  assert.equal(got[0]?.outTimeSeconds, 120.048254);
  assert.equal(got[0]?.speed, 66.5);
  assert.equal(got[0]?.totalSizeBytes, undefined);
  assert.equal(got[0]?.done, false);
  assert.equal(got[0]?.raw.dup_frames, '1');
  assert.equal(got[1]?.done, true);
  assert.equal(got[1]?.outTimeSeconds, 300);
});

test('progress time: out_time_ms is microseconds (ffmpeg misnomer), out_time as fallback, N/A and negatives ignored', () => {
  assert.equal(progressFromBlock({ out_time_ms: '2500000', progress: 'continue' }).outTimeSeconds, 2.5);
  assert.equal(progressFromBlock({ out_time: '01:02:03.500000', progress: 'continue' }).outTimeSeconds, 3723.5);
  assert.equal(progressFromBlock({ out_time_us: 'N/A', out_time: 'N/A', progress: 'continue' }).outTimeSeconds, undefined);
  assert.equal(progressFromBlock({ out_time_us: '-23000', progress: 'continue' }).outTimeSeconds, undefined);
  assert.equal(progressFromBlock({ speed: 'N/A', progress: 'continue' }).speed, undefined);
  assert.equal(progressFromBlock({ total_size: '4096', progress: 'end' }).totalSizeBytes, 4096);
});

test('the stall watchdog counts movement, not blocks', () => {
  const a = progressFromBlock({ frame: '10', out_time_us: '1000000', progress: 'continue' });
  assert.equal(progressAdvanced(undefined, a), true);
  assert.equal(progressAdvanced(a, { ...a }), false);
  assert.equal(progressAdvanced(a, progressFromBlock({ frame: '11', out_time_us: '1000000', progress: 'continue' })), true);
  assert.equal(progressAdvanced(a, progressFromBlock({ frame: '10', out_time_us: '1100000', progress: 'continue' })), true);
  assert.equal(progressAdvanced(a, progressFromBlock({ frame: '10', out_time_us: '1000000', progress: 'end' })), true);
});

test('a runaway line without newline does not grow the reader', () => {
  const reader = new ProgressReader();
  assert.deepEqual(reader.push('x'.repeat(10_000)), []);
  assert.equal(reader.push('\nframe=1\nprogress=end\n').length, 1);
});

const FREEZE_PRINT = `frame:620  pts:621     pts_time:62.1
lavfi.freezedetect.freeze_start=60.1
frame:900  pts:901     pts_time:90.1
lavfi.freezedetect.freeze_duration=30
lavfi.freezedetect.freeze_end=90.1
frame:920  pts:921     pts_time:92.1
lavfi.freezedetect.freeze_start=90.1
`;

test('metadata print output is parsed frame by frame', () => {
  const frames = parseMetadataPrint(`frame:0    pts:0       pts_time:0\nlavfi.blackframe.pblack=0\nlavfi.blur=4.649706\nframe:1    pts:NOPTS   pts_time:NOPTS\nlavfi.blur=-nan\n\ngarbage\n`);
  assert.deepEqual(frames, [
    { frame: 0, pts: 0, ptsTime: 0, tags: { 'lavfi.blackframe.pblack': '0', 'lavfi.blur': '4.649706' } },
    { frame: 1, tags: { 'lavfi.blur': '-nan' } },
  ]);
});

test('freeze starts and ends are paired; a video that ends frozen leaves the interval open', () => {
  assert.deepEqual(freezeIntervals(parseMetadataPrint(FREEZE_PRINT)), [{ start: 60.1, end: 90.1 }, { start: 90.1 }]);
  assert.deepEqual(freezeIntervals([]), []);
});

function sampled(k: number, t: number, pblack: number, blur: string): string {
  return `frame:${k} pts:${Math.round(t * 10)} pts_time:${t}\nlavfi.blackframe.pblack=${pblack}\nlavfi.blur=${blur}\n`;
}

test('dead frames: black before frozen before blurred; the first frame of a freeze is kept', () => {
  const print =
    sampled(0, 0, 0, '4.6') + // moving, sharp
    sampled(1, 60.1, 100, '-nan') + // black (and frozen)
    sampled(2, 70.1, 99, '-nan') + // black
    sampled(3, 90.1, 0, '4.6') + // first frame of the still: kept
    sampled(4, 100.1, 0, '4.6') + // frozen
    sampled(5, 160.1, 1, '21.5') + // blurred
    sampled(6, 170.1, 97, '9.9'); // 97 % black is not black
  const freezes = freezeIntervals(parseMetadataPrint(`${FREEZE_PRINT}frame:1500 pts:1501 pts_time:150.1\nlavfi.freezedetect.freeze_end=150.1\n`));
  const verdicts = judgeFrames(parseMetadataPrint(print), freezes, 10, { blurThreshold: 10 });
  assert.deepEqual(
    verdicts.map((v) => [v.outputIndex, v.sourceIndex, v.dead ?? 'kept']),
    [
      [0, 0, 'kept'],
      [1, 10, 'black'],
      [2, 20, 'black'],
      [3, 30, 'kept'],
      [4, 40, 'frozen'],
      [5, 50, 'blurred'],
      [6, 60, 'kept'],
    ],
  );
  assert.equal(verdicts[1]?.pblack, 100);
  assert.ok(Number.isNaN(verdicts[1]?.blur));
  assert.deepEqual(countVerdicts(verdicts), { kept: 3, dropped: { black: 2, frozen: 1, blurred: 1 } });
  // The default blur threshold (12) drops 21.5 too and keeps 9.9; a laxer one keeps 21.5; detection off keeps everything.
  assert.equal(judgeFrames(parseMetadataPrint(print), freezes, 10)[5]?.dead, 'blurred');
  assert.equal(judgeFrames(parseMetadataPrint(print), freezes, 10)[6]?.dead, undefined);
  assert.equal(judgeFrames(parseMetadataPrint(print), freezes, 10, { blurThreshold: 25 })[5]?.dead, undefined);
  assert.equal(countVerdicts(judgeFrames(parseMetadataPrint(print), freezes, 10, { enabled: false })).kept, 7);
  assert.equal(judgeFrames(parseMetadataPrint(print), freezes, 10, { blackPercent: 97 })[6]?.dead, 'black');
});

test('frame object names follow the contract', () => {
  assert.equal(frameObjectName('1511893800', 0), '1511893800/1511893800_f000000.jpg');
  assert.equal(frameObjectName('cam1', 2990), 'cam1/cam1_f002990.jpg');
  assert.equal(frameObjectName('x', 1234567), 'x/x_f1234567.jpg');
});

test('clip object names follow the contract: <stem>_NNN.mp4, from 0, 3 digits zero padded', () => {
  assert.equal(clipObjectName('1511893800', 0), '1511893800_000.mp4');
  assert.equal(clipObjectName('1511893800', 2), '1511893800_002.mp4');
  assert.equal(clipObjectName('cam1', 12), 'cam1_012.mp4');
  assert.equal(clipObjectName('cam1', 999), 'cam1_999.mp4');
  assert.equal(clipObjectName('Right metrics: part+1', 1), 'Right metrics: part+1_001.mp4', 'the stem is used as it is');
  // What is built is what the source check recognises as an output.
  for (const i of [0, 1, 12, 999]) assert.ok(isClipName(clipObjectName('cam1', i), 'cam1'), `clip ${i}`);
  assert.ok(!isClipName(clipObjectName('cam1', 1), 'cam'), 'another stem');
});

test('the segment list gives the clips as written', () => {
  assert.deepEqual(parseSegmentList('clip_000.mp4,0.000000,120.023242\nclip_001.mp4,120.023242,240.023242\n"a,""b"".mp4",240.0,300.1\n'), [
    { file: 'clip_000.mp4', startSeconds: 0, endSeconds: 120.023242 },
    { file: 'clip_001.mp4', startSeconds: 120.023242, endSeconds: 240.023242 },
    { file: 'a,"b".mp4', startSeconds: 240, endSeconds: 300.1 },
  ]);
  assert.deepEqual(parseSegmentList(''), []);
  assert.throws(() => parseSegmentList('clip_000.mp4,zero,1\n'), (e: unknown) => e instanceof PermanentError && e.code === 'FFMPEG_OUTPUT_UNREADABLE');
});

const PROBE = {
  streams: [
    { index: 0, codec_name: 'mpeg4', codec_type: 'video', width: 320, height: 240, pix_fmt: 'yuv420p', r_frame_rate: '10/1', avg_frame_rate: '10/1', duration: '300.100000', nb_frames: '3001', disposition: { attached_pic: 0 } },
    { index: 1, codec_name: 'mp3', codec_type: 'audio', sample_rate: '44100', channels: 1, duration: '300.042449' },
  ],
  format: { format_name: 'avi', duration: '300.100000' },
};

test('ffprobe JSON becomes MediaInfo', () => {
  assert.deepEqual(parseProbeJson(JSON.stringify(PROBE)), {
    formatName: 'avi',
    durationSeconds: 300.1,
    video: { codec: 'mpeg4', width: 320, height: 240, fps: 10, pixFmt: 'yuv420p', frames: 3001, durationSeconds: 300.1 },
    audio: { codec: 'mp3', sampleRate: 44100, channels: 1, durationSeconds: 300.042449 },
  });
  const ntsc = parseProbeJson(JSON.stringify({ streams: [{ codec_type: 'video', codec_name: 'h264', width: 2, height: 2, avg_frame_rate: '0/0', r_frame_rate: '30000/1001', duration: '5' }], format: {} }));
  assert.ok(Math.abs(ntsc.video!.fps - 29.97) < 0.01);
  assert.equal(ntsc.durationSeconds, 5);
  assert.equal(ntsc.formatName, 'unknown');
});

test('audio with cover art, or no duration, is not a video', () => {
  const cover = parseProbeJson(JSON.stringify({
    streams: [{ codec_type: 'audio', codec_name: 'mp3', sample_rate: '44100', channels: 2 }, { codec_type: 'video', codec_name: 'mjpeg', width: 500, height: 500, disposition: { attached_pic: 1 } }],
    format: { format_name: 'mp3', duration: '10' },
  }));
  assert.equal(cover.video, undefined);
  assert.throws(() => requireVideo(cover), (e: unknown) => e instanceof PermanentError && e.code === 'NOT_A_VIDEO' && /without a video stream/.test(e.message));
  const noDuration = parseProbeJson(JSON.stringify({ streams: [{ codec_type: 'video', codec_name: 'h264', width: 2, height: 2 }], format: { format_name: 'h264' } }));
  assert.throws(() => requireVideo(noDuration), /without a duration/);
});

test('the stderr tail keeps only the last bytes, starting at a whole line', () => {
  const tail = new OutputTail(100);
  for (let i = 0; i < 50; i++) tail.push(Buffer.from(`line ${i} of chatter\n`));
  const text = tail.text();
  assert.ok(text.length <= 100);
  assert.match(text, /^line \d+ of chatter\n/);
  assert.match(text, /line 49 of chatter\n$/);
  assert.ok(tail.droppedBytes > 800);
  assert.deepEqual(tail.lastLines(2), ['line 48 of chatter', 'line 49 of chatter']);
  const big = new OutputTail(10);
  big.push(Buffer.alloc(1000, 'a'));
  assert.equal(big.text().length, 10);
  assert.equal(new OutputTail(50).lastLines(3).length, 0);
  const long = new OutputTail(1000);
  long.push(Buffer.from('x'.repeat(500)));
  assert.equal(long.lastLines(1, 20)[0], `${'x'.repeat(20)}…`);
});

test('faststart means moov before mdat', () => {
  const box = (type: string, offset: number) => ({ type, offset, size: 8, headerSize: 8 });
  assert.equal(isFastStart([box('ftyp', 0), box('moov', 8), box('mdat', 16)]), true);
  assert.equal(isFastStart([box('ftyp', 0), box('free', 8), box('mdat', 16), box('moov', 24)]), false);
  assert.equal(isFastStart([box('ftyp', 0), box('mdat', 8)]), false);
});

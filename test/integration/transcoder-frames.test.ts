import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { VideoJob } from '../../shared/contract/messages.ts';
import { runPipeline } from '../helpers/pipeline-run.ts';
import { makeAvi, FIVE_MINUTES } from '../helpers/videos.ts';

// The frames of the clips-and-frames pass are judged and stored while ffmpeg still encodes
// (shared/media/frame-watcher.ts); these tests show it by the order of the pipeline's events.

let dir: string;
let five: string;
let minute: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vigil-frames-'));
  five = join(dir, 'five.avi');
  minute = join(dir, 'minute.avi');
  await makeAvi(five, { sections: FIVE_MINUTES });
  await makeAvi(minute, { sections: [{ kind: 'moving', seconds: 60 }] });
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

function transcode(input: string, key: string, name: string, job: Omit<VideoJob, 'source'> = {}) {
  return runPipeline({ input, key, job, workDir: join(dir, `job-${name}`), storeRoot: join(dir, `store-${name}`), encode: { preset: 'ultrafast' }, dead: { blurThreshold: 12 } });
}

const frameIndex = (event: string) => Number(/_f(\d+)\.jpg$/.exec(event)![1]);

test('frames are stored while ffmpeg still encodes; after it exits only the last seconds are left', async () => {
  const { res, events } = await transcode(five, 'cam2/1511893900.avi', 'five-order');
  const exited = events.indexOf('ffmpeg exited');
  assert.ok(exited > 0, 'the pipeline said when ffmpeg exited');
  const frames = events.map((e, i) => [e, i] as const).filter(([e]) => e.startsWith('stored frames/'));
  assert.equal(frames.length, 151);
  const before = frames.filter(([, i]) => i < exited).length;
  assert.equal(res.frames?.storedDuringEncode, before);
  // The frames of the last 3 s are within the look-ahead (2 s + 1 s): they wait for the end.
  const after = frames.filter(([, i]) => i > exited).map(([e]) => frameIndex(e));
  assert.ok(before > 0, `no frame was stored before ffmpeg exited: ${JSON.stringify(events.slice(0, exited + 1))}`);
  assert.ok(after.includes(2990), 'the last frame waits for the end of the stream');
  assert.ok(after.length < before, `${after.length} frames stored after ffmpeg exited, ${before} before`);
});

test('without dead-frame detection every sampled JPEG is stored, handed over as image2 closes it', async () => {
  const { res, store, workDir } = await transcode(minute, 'cam3.avi', 'minute-all', { frames: { dropDead: false, every: 5 } });
  assert.deepEqual(res.frames?.counts, { kept: 120, dropped: { black: 0, frozen: 0, blurred: 0 } });
  const kept = await store.keys('frames');
  assert.equal(kept.length, 120);
  assert.deepEqual([kept[0], kept[1], kept.at(-1)], ['cam3/cam3_f000000.jpg', 'cam3/cam3_f000005.jpg', 'cam3/cam3_f000595.jpg']);
  assert.deepEqual((await readdir(join(workDir, 'frames'))).filter((f) => f.endsWith('.jpg')), []);
});

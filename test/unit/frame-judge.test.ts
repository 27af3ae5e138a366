import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FREEZE_SLACK_SECONDS, FrameJudge } from '../../shared/media/frame-judge.ts';
import { freezeIntervals, judgeFrames, MetadataPrintReader, parseMetadataPrint, type FrameVerdict } from '../../shared/media/frame-select.ts';

type Kind = 'moving' | 'black' | 'frozen' | 'blurred';

/** `av_ts2timestr` prints `%.6g`. */
const ts = (t: number) => String(Number(t.toPrecision(6)));

/**
 * What the pass's two prints say about a video of `sections` (kind, seconds): freezedetect's
 * events as it emits them (the start, named after the first still frame, on the frame where
 * the stillness has lasted `d`; the end on the first frame that differs), and each sampled
 * frame's blackframe and blurdetect values. Black frames are identical to each other, as
 * are the frames of one frozen section.
 */
function simulate(sections: [Kind, number][], fps: number, every: number, d = 2) {
  const freeze: { t: number; text: string }[] = [];
  const sampled: { t: number; text: string }[] = [];
  let j = 0;
  let ref: { t: number; id: string } | undefined;
  let frozen = false;
  sections.forEach(([kind, seconds], s) => {
    for (let n = 0; n < Math.round(seconds * fps); n++, j++) {
      const t = j / fps;
      const id = kind === 'black' ? 'black' : kind === 'frozen' ? `frozen-${s}` : `frame-${j}`;
      const tags: string[] = [];
      const still = ref !== undefined && ref.id === id;
      if (still && !frozen && t - ref!.t >= d - 1e-9) {
        tags.push(`lavfi.freezedetect.freeze_start=${ts(ref!.t)}`);
        frozen = true;
      }
      if (!still) {
        if (frozen) tags.push(`lavfi.freezedetect.freeze_duration=${ts(t - ref!.t)}`, `lavfi.freezedetect.freeze_end=${ts(t)}`);
        frozen = false;
        ref = { t, id };
      }
      if (tags.length > 0) freeze.push({ t, text: `frame:${j} pts:${j} pts_time:${ts(t)}\n${tags.join('\n')}\n` });
      if (j % every === 0) {
        const pblack = kind === 'black' ? 100 : 0;
        const blur = kind === 'blurred' ? '21.5' : kind === 'black' ? '-nan' : '4.6';
        sampled.push({ t, text: `frame:${j / every} pts:${j} pts_time:${ts(t)}\nlavfi.blackframe.pblack=${pblack}\nlavfi.blur=${blur}\n` });
      }
    }
  });
  return { freeze, sampled, frames: j };
}

/** A deterministic sequence in [0, 1) for the chunking. */
function random(seed: number): () => number {
  let x = seed;
  return () => ((x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
}

/**
 * Feeds the prints to a judge as ffmpeg would write them: after source frame j, the sampled
 * print holds the entries up to j (the last possibly half written), the freeze print runs
 * up to some frames ahead (the filter before `select`), cut anywhere, even mid-line.
 */
function replay(sim: ReturnType<typeof simulate>, every: number, seed: number) {
  const rnd = random(seed);
  const judge = new FrameJudge(every);
  const sampledText = sim.sampled.map((e) => e.text).join('');
  const freezeText = sim.freeze.map((e) => e.text).join('');
  const upTo = (entries: { t: number; text: string }[], t: number) => entries.filter((e) => e.t <= t + 1e-9).reduce((n, e) => n + e.text.length, 0);
  const readers = { sampled: new MetadataPrintReader(), freeze: new MetadataPrintReader() };
  const fed = { sampled: 0, freeze: 0 };
  const during: { verdict: FrameVerdict; reachedSeconds: number }[] = [];
  for (let j = 0; j < sim.frames; j += 1 + Math.floor(rnd() * 7)) {
    const t = j / 10;
    // A half-written next entry, or none.
    const s = Math.min(sampledText.length, upTo(sim.sampled, t) + Math.floor(rnd() * 40));
    const lead = t + rnd() * 3;
    const f = Math.min(freezeText.length, Math.max(upTo(sim.freeze, t), upTo(sim.freeze, lead)) + Math.floor(rnd() * 30));
    // The sampled print is read first; by the time the freeze print is read it may have grown.
    readers.sampled.push(sampledText.slice(fed.sampled, Math.max(fed.sampled, s)));
    fed.sampled = Math.max(fed.sampled, s);
    readers.freeze.push(freezeText.slice(fed.freeze, Math.max(fed.freeze, f)));
    fed.freeze = Math.max(fed.freeze, f);
    // How far the judge could see: the newest sampled frame, half written or not.
    const reachedSeconds = readers.sampled.frames.at(-1)?.ptsTime ?? -1;
    for (const v of judge.next(readers.sampled.frames, readers.freeze.frames, false)) during.push({ verdict: v, reachedSeconds });
  }
  readers.sampled.push(sampledText.slice(fed.sampled));
  readers.freeze.push(freezeText.slice(fed.freeze));
  readers.sampled.end();
  readers.freeze.end();
  const tail = judge.next(readers.sampled.frames, readers.freeze.frames, true);
  const afterThePass = judgeFrames(parseMetadataPrint(sampledText), freezeIntervals(parseMetadataPrint(freezeText)), every);
  return { during, tail, afterThePass };
}

const FIVE_MINUTES: [Kind, number][] = [['moving', 60], ['black', 30], ['frozen', 60], ['blurred', 60], ['moving', 90]];

test('judged as the prints grow, every verdict is the one the whole prints give, and only the last seconds wait for the end', () => {
  const lookAhead = 2 + FREEZE_SLACK_SECONDS;
  const shapes: [Kind, number][][] = [
    FIVE_MINUTES,
    // A freeze just shorter than the minimum, one just longer, one ending the video.
    [['moving', 5], ['frozen', 1.9], ['moving', 3], ['frozen', 2.1], ['blurred', 4], ['frozen', 2.5], ['black', 1], ['moving', 2], ['frozen', 6]],
    [['frozen', 10], ['moving', 10], ['black', 3]],
  ];
  for (const [i, sections] of shapes.entries()) {
    const sim = simulate(sections, 10, 10);
    for (const seed of [1, 7, 42, 1234]) {
      const { during, tail, afterThePass } = replay(sim, 10, seed + i);
      const all = [...during.map((d) => d.verdict), ...tail];
      assert.deepEqual(all, afterThePass, `shape ${i}, seed ${seed}`);
      const end = sim.sampled.at(-1)!.t;
      for (const v of tail) assert.ok(v.ptsTime! > end - lookAhead - 1, `shape ${i}: frame at ${v.ptsTime} s waited for the end (${end} s)`);
      // Whatever a freeze announced later would say, nothing was handed over early.
      for (const d of during) {
        if (d.verdict.dead === 'black' || d.verdict.dead === 'frozen') continue;
        assert.ok(d.verdict.ptsTime! + lookAhead <= d.reachedSeconds + 1e-9, `shape ${i}: frame at ${d.verdict.ptsTime} s handed over at ${d.reachedSeconds} s`);
      }
    }
  }
});

test('the test video: black and frozen frames are final at once, a kept frame only after the look-ahead', () => {
  const sim = simulate(FIVE_MINUTES, 10, 10);
  const { during } = replay(sim, 10, 3);
  const at = (t: number) => during.find((d) => Math.abs(d.verdict.ptsTime! - t) < 1e-9)!;
  assert.equal(at(65).verdict.dead, 'black');
  assert.ok(at(65).reachedSeconds <= 66 + 0.7, 'a black frame needs no look-ahead');
  // The freeze of 90–150 s is announced at 92 s; a frame inside it is final once that is read.
  assert.equal(at(120).verdict.dead, 'frozen');
  assert.ok(at(120).reachedSeconds <= 121 + 0.7);
  // The first frozen frame is the picture: kept, once nothing can be announced for it any more.
  assert.equal(at(90).verdict.dead, undefined);
  assert.ok(at(90).reachedSeconds >= 93);
  assert.equal(at(30).verdict.dead, undefined);
  assert.ok(at(30).reachedSeconds >= 33);
});

test('a stretch frozen for less than the minimum is not a freeze; until the minimum has passed its frames wait', () => {
  const print = (t: number, k: number) => `frame:${k} pts:${t * 10} pts_time:${t}\nlavfi.blackframe.pblack=0\nlavfi.blur=4\n`;
  const judge = new FrameJudge(10);
  const sampled = parseMetadataPrint([0, 1, 2, 3].map((t, k) => print(t, k)).join(''));
  // At 3 s: the frame at 0 s is past the look-ahead (2 s + slack), the ones at 1 and 2 s are not.
  assert.deepEqual(judge.next(sampled, [], false).map((v) => v.ptsTime), [0]);
  // A freeze from 1 s, announced at 3 s: the frame at 2 s is frozen, the one at 1 s its picture.
  const freeze = parseMetadataPrint('frame:30 pts:30 pts_time:3\nlavfi.freezedetect.freeze_start=1\n');
  assert.deepEqual(judge.next(sampled, freeze, false).map((v) => v.ptsTime), []);
  const more = parseMetadataPrint([0, 1, 2, 3, 4, 5].map((t, k) => print(t, k)).join(''));
  assert.deepEqual(judge.next(more, freeze, false).map((v) => [v.ptsTime, v.dead]), [[1, undefined], [2, 'frozen'], [3, 'frozen'], [4, 'frozen']]);
  assert.deepEqual(judge.next(more, freeze, true).map((v) => [v.ptsTime, v.dead]), [[5, 'frozen']]);
  assert.equal(judge.count, 6);
});

test('a sampled frame without a time is final once complete; a freeze entry without one holds every verdict back until the end', () => {
  const judge = new FrameJudge(10);
  const sampled = parseMetadataPrint('frame:0 pts:NOPTS pts_time:NOPTS\nlavfi.blackframe.pblack=0\nlavfi.blur=4\nframe:1 pts:10 pts_time:1\nlavfi.blackframe.pblack=0\nlavfi.blur=4\nframe:2 pts:40 pts_time:4\n');
  assert.deepEqual(judge.next(sampled, [], false).map((v) => v.outputIndex), [0, 1]);
  const other = new FrameJudge(10);
  const freeze = parseMetadataPrint('frame:5 pts:NOPTS pts_time:NOPTS\nlavfi.freezedetect.freeze_start=0.5\n');
  assert.deepEqual(other.next(sampled, freeze, false).map((v) => v.outputIndex), [0]);
  assert.deepEqual(other.next(sampled, freeze, true).map((v) => [v.outputIndex, v.dead]), [[1, 'frozen'], [2, 'frozen']]);
});

test('the print reader takes whole lines only, in any chunks, and gives what the whole text gives', () => {
  const text = simulate(FIVE_MINUTES, 10, 10).sampled.map((e) => e.text).join('');
  const rnd = random(9);
  const reader = new MetadataPrintReader();
  for (let at = 0; at < text.length; ) {
    const n = Math.floor(rnd() * 97);
    reader.push(text.slice(at, at + n));
    at += n;
    const last = reader.frames.at(-1);
    if (last) assert.ok(!Object.keys(last.tags).some((k) => !k.startsWith('lavfi.')), 'no half tag name');
  }
  reader.end();
  assert.deepEqual(reader.frames, parseMetadataPrint(text));
  assert.equal(reader.frames.length, 300);
});

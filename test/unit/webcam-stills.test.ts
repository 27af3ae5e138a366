import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { QualityBounds } from '../../shared/face/quality.ts';
import { bestByGate, parsePeople, stillTimes, type StillFaces } from '../helpers/webcam-stills.ts';

test('people.csv: clip and person per row, header and blank lines skipped, CRLF read', () => {
  assert.deepEqual(parsePeople('clip,person\r\nagain.mkv,A\r\n\r\nbird.mkv, B\n'), [
    { clip: 'again.mkv', person: 'A' },
    { clip: 'bird.mkv', person: 'B' },
  ]);
  assert.throws(() => parsePeople('clip,person\nagain.mkv\n'), /bad row/);
});

test('still times: spread evenly, each in the middle of its share, clear of both ends', () => {
  assert.deepEqual(stillTimes(2.3, 4, 0.15), [0.4, 0.9, 1.4, 1.9]);
  for (const [d, n] of [[1.566, 4], [3.666, 4], [2.2, 1], [0.4, 3]] as const) {
    const ts = stillTimes(d, n);
    assert.equal(ts.length, n);
    assert.ok(ts[0]! > 0 && ts.at(-1)! < d, `${ts} within ${d} s`);
    const gaps = ts.slice(1).map((t, i) => t - ts[i]!);
    assert.ok(gaps.every((g) => Math.abs(g - gaps[0]!) < 0.011), `even spacing ${gaps}`);
    // The first and last sit as far from the ends as half a gap beyond the margin.
    assert.ok(Math.abs(ts[0]! - (d - ts.at(-1)!)) < 0.011, 'symmetric');
  }
  assert.deepEqual(stillTimes(2, 0), []);
  assert.deepEqual(stillTimes(0, 3), []);
});

const BOUNDS: QualityBounds = { minFaceSize: 40, minScore: 0.5, minBrightness: 50, maxBrightness: 225, minSharpness: 40, maxYaw: 40, maxPitch: 30, maxRoll: 35 };
const face = (sizePx: number, score: number, pitch = 0) => ({ score, quality: { sizePx, score, brightness: 120, sharpness: 100, pose: { yaw: 0, pitch, roll: 0 } } });

test('fallback enrolment: one-face stills first, then the fewest missed bounds, the larger face, the more confident', () => {
  const stills: StillFaces[] = [
    { faces: [] },
    { faces: [face(80, 0.99), face(70, 0.99)] }, // two faces: the rule wants one
    { faces: [face(30, 0.9)] }, // too small: one bound missed
    { faces: [face(35, 0.95, 40)] }, // too small and pitched: two missed
    { faces: [face(32, 0.7)] }, // too small, larger than still 2
  ];
  assert.deepEqual(bestByGate(stills, BOUNDS), { still: 4, face: 0 });
  assert.deepEqual(bestByGate([stills[0]!, stills[1]!], BOUNDS), { still: 1, face: 0 }, 'a two-face still when nothing else shows a face');
  assert.deepEqual(bestByGate([{ faces: [face(32, 0.7)] }, { faces: [face(32, 0.9)] }], BOUNDS), { still: 1, face: 0 }, 'confidence breaks a tie');
  assert.equal(bestByGate([{ faces: [] }], BOUNDS), undefined);
});

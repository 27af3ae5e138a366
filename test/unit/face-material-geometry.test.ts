import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { TILT_ANGLES, TWO_PEOPLE, insideCrop, partnerIndex, prng, rotatedPoint, rotatedSize, tiltAngle, twoPeopleLayout, twoPeopleOrder } from '../helpers/face-material-geometry.ts';

test('inside crops: 0.6–0.9× of the box, all four framings, off-centre ones still inside the box', () => {
  const seen = new Set<string>();
  for (let i = 0; i < 200; i++) {
    const c = insideCrop(i);
    assert.ok(c.factor >= 0.6 && c.factor <= 0.9, `factor ${c.factor}`);
    seen.add(`${c.colour}/${c.centred}`);
    if (c.centred) assert.deepEqual(c.shift, { dx: 0, dy: 0 });
    else assert.ok(Math.hypot(c.shift.dx, c.shift.dy) > 0, 'off centre moves');
    // In box sides: the crop spans centre ± factor/2, the shift moves it by shift × factor.
    for (const d of [c.shift.dx, c.shift.dy]) assert.ok(Math.abs(d) * c.factor + c.factor / 2 <= 0.5 + 1e-9, `crop leaves the box (${JSON.stringify(c)})`);
  }
  assert.equal(seen.size, 4, 'grayscale and colour, centred and off centre');
  assert.deepEqual(insideCrop(7), insideCrop(7), 'deterministic');
});

test('tilted: the four rolls in turn; the rotated canvas and a point on it follow sharp', async () => {
  assert.deepEqual([0, 1, 2, 3, 4].map(tiltAngle), [...TILT_ANGLES, TILT_ANGLES[0]]);
  assert.deepEqual(rotatedSize(100, 50, 90), { width: 50, height: 100 });
  const p = rotatedPoint({ x: 100, y: 25 }, 100, 50, 90, { width: 50, height: 100 });
  assert.ok(Math.abs(p.x - 25) < 1e-9 && Math.abs(p.y - 100) < 1e-9, 'clockwise: the right edge turns to the bottom');

  // A white dot on black, turned by sharp: found where rotatedPoint says.
  const [w, h, dot] = [80, 50, { x: 62, y: 12 }];
  const pixels = Buffer.alloc(w * h * 3);
  for (let y = dot.y - 1; y <= dot.y + 1; y++) for (let x = dot.x - 1; x <= dot.x + 1; x++) pixels.fill(255, (y * w + x) * 3, (y * w + x) * 3 + 3);
  for (const angle of [-30, 15, 30]) {
    const { data, info } = await sharp(pixels, { raw: { width: w, height: h, channels: 3 } }).rotate(angle, { background: '#000' }).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    const size = rotatedSize(w, h, angle);
    assert.ok(Math.abs(info.width - size.width) <= 1 && Math.abs(info.height - size.height) <= 1, `canvas ${info.width}×${info.height} vs ${JSON.stringify(size)}`);
    let [sx, sy, n] = [0, 0, 0];
    for (let i = 0; i < info.width * info.height; i++) {
      const v = data[i * 3]!;
      sx += (i % info.width) * v;
      sy += Math.floor(i / info.width) * v;
      n += v;
    }
    // Pixel centres sit at +0.5.
    const want = rotatedPoint({ x: dot.x + 0.5, y: dot.y + 0.5 }, w, h, angle, info);
    assert.ok(Math.hypot(sx / n + 0.5 - want.x, sy / n + 0.5 - want.y) < 1.5, `${angle}°: dot at ${(sx / n).toFixed(1)},${(sy / n).toFixed(1)}, expected ${want.x.toFixed(1)},${want.y.toFixed(1)}`);
  }
});

test('two people: another identity, drawn among usable photos, deterministic', () => {
  const ids = ['a', 'a', 'b', 'c', 'c'];
  const usable = [true, true, true, false, true];
  for (let i = 0; i < ids.length; i++) {
    const j = partnerIndex(i, ids, usable)!;
    assert.notEqual(ids[j], ids[i]);
    assert.ok(usable[j]);
    assert.equal(partnerIndex(i, ids, usable), j);
  }
  assert.equal(partnerIndex(0, ['a', 'a'], [true, true]), undefined);
  assert.deepEqual(twoPeopleOrder(4, 9), [4, 9]);
  assert.deepEqual(twoPeopleOrder(5, 9), [9, 5]);
});

test('two people: faces 10–15% of the frame height, one each side of the middle, the photos cut apart', () => {
  const W = 854;
  const H = 480;
  const rand = prng(1);
  for (let i = 0; i < 100; i++) {
    // Portraits to group shots, faces anywhere in them.
    const photo = () => {
      const width = 400 + Math.round(1800 * rand());
      const height = 500 + Math.round(1100 * rand());
      const side = 80 + 300 * rand();
      return { width, height, box: { x: (width - side) * rand(), y: (height - side) * rand(), width: side * (0.8 + 0.2 * rand()), height: side } };
    };
    const [l, r] = twoPeopleLayout(i, W, H, photo(), photo());
    for (const [p, half] of [[l, [0, W / 2]], [r, [W / 2, W]]] as const) {
      const share = p.face.height / H;
      assert.ok(share >= TWO_PEOPLE.fraction[0] - 1e-9 && share <= TWO_PEOPLE.fraction[1] + 1e-9, `face height ${share}`);
      assert.ok(p.face.x >= half[0] && p.face.x + p.face.width <= half[1], `face inside its half (${JSON.stringify(p.face)})`);
      assert.ok(p.face.y >= 0 && p.face.y + p.face.height <= H, 'face inside the frame');
      assert.ok(p.clip.x0 >= half[0] && p.clip.x1 <= half[1] && p.clip.y0 >= 0 && p.clip.y1 <= H, 'photo cut to its half');
      // The visible part lies within the scaled photo.
      assert.ok(p.clip.x0 >= p.left && p.clip.y0 >= p.top);
    }
    const gap = r.face.x + r.face.width / 2 - (l.face.x + l.face.width / 2);
    assert.ok(gap >= 2 * TWO_PEOPLE.offCentre[0] * W - 2 && gap <= 2 * TWO_PEOPLE.offCentre[1] * W + 2, `faces ${gap} px apart`);
  }
  const a = { width: 600, height: 800, box: { x: 200, y: 200, width: 200, height: 220 } };
  assert.deepEqual(twoPeopleLayout(3, W, H, a, a), twoPeopleLayout(3, W, H, a, a), 'deterministic');
});

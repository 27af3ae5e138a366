import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GalleryIndex, type IndexedFace } from '../../shared/gallery/gallery-index.ts';
import { descriptorDistance } from '../../shared/face/geometry.ts';

/** A deterministic descriptor near `centre`: 128 values, each moved by up to ±spread. */
function near(centre: ArrayLike<number>, spread: number, seed: number): Float32Array {
  let s = seed;
  return Float32Array.from(centre, (v) => {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    return v + ((s / 0x7fffffff) * 2 - 1) * spread;
  });
}
const origin = new Float32Array(128);
const far = (seed: number) => near(origin, 0.2, seed);

function face(descriptorId: number, lanIdWeight: string, descriptor: Float32Array, lanId = lanIdWeight): IndexedFace {
  return { descriptorId, trainImgId: descriptorId + 1000, lanId, lanIdWeight, descriptor };
}

test('the closest face of each other employee within the bound, closest first, at the distance descriptorDistance gives', () => {
  const probe = far(1);
  const a1 = near(probe, 0.02, 2);
  const a2 = near(probe, 0.04, 3);
  const b1 = near(probe, 0.03, 4);
  const index = new GalleryIndex(128, 2);
  index.add([face(1, 'A', a1), face(2, 'A', a2), face(3, 'B', b1), face(4, 'C', far(5))]);
  assert.equal(index.size, 4);
  const hits = index.search({ descriptor: probe, lanIdWeight: 'Z', bound: 0.65, removed: new Set(), limit: 10 });
  assert.deepEqual(hits.map((h) => h.lanId), ['A', 'B'], 'C is far; A once, with its closer face');
  assert.equal(hits[0]!.descriptorId, 1);
  assert.equal(hits[0]!.trainImgId, 1001);
  assert.ok(Math.abs(hits[0]!.distance - descriptorDistance(a1, probe)) < 1e-6);
  assert.ok(Math.abs(hits[1]!.distance - descriptorDistance(b1, probe)) < 1e-6);
});

test("the enrolling employee's own faces, removed faces and faces at or past the bound do not count", () => {
  const probe = far(7);
  const own = near(probe, 0.01, 8);
  const removed = near(probe, 0.01, 9);
  const edge = near(probe, 0.05, 10);
  const index = new GalleryIndex();
  index.add([face(1, 'SELF', own, 'na\\self'), face(2, 'R', removed), face(3, 'E', edge)]);
  const d = descriptorDistance(edge, probe);
  const search = (bound: number) => index.search({ descriptor: probe, lanIdWeight: 'SELF', bound, removed: new Set([1002]), limit: 10 });
  assert.deepEqual(search(d + 1e-6).map((h) => h.lanId), ['E']);
  assert.deepEqual(search(d - 1e-6), [], 'strictly below the bound');
});

test('the limit keeps the closest employees; descriptors of another length are skipped; the index grows past its capacity', () => {
  const probe = far(11);
  const index = new GalleryIndex(128, 1);
  const faces = Array.from({ length: 50 }, (_, i) => face(i + 1, `E${i}`, near(probe, 0.001 * (i + 1), 100 + i)));
  assert.deepEqual(index.add([...faces, { ...face(99, 'X', probe), descriptor: new Float32Array(64) }]), { added: 50, skipped: 1 });
  const hits = index.search({ descriptor: probe, lanIdWeight: 'none', bound: 1, removed: new Set(), limit: 3 });
  assert.deepEqual(hits.map((h) => h.lanId), ['E0', 'E1', 'E2']);
  assert.throws(() => index.search({ descriptor: new Float32Array(3), lanIdWeight: 'none', bound: 1, removed: new Set(), limit: 3 }), /descriptor of 3 values/);
});

test('a brute-force scan agrees with the search on random galleries', () => {
  const index = new GalleryIndex();
  const all: IndexedFace[] = [];
  for (let i = 0; i < 2000; i++) all.push(face(i + 1, `E${i % 300}`, near(origin, 0.08, 1000 + i)));
  index.add(all);
  for (let q = 0; q < 20; q++) {
    const probe = near(origin, 0.08, 50_000 + q);
    const bound = 0.66;
    const hits = index.search({ descriptor: probe, lanIdWeight: 'E0', bound, removed: new Set(), limit: 1000 });
    const expected = new Map<string, number>();
    for (const f of all) {
      if (f.lanIdWeight === 'E0') continue;
      const d = descriptorDistance(f.descriptor, probe);
      if (d < bound && d < (expected.get(f.lanIdWeight) ?? Infinity)) expected.set(f.lanIdWeight, d);
    }
    assert.ok(expected.size > 0 && expected.size < 299, `the bound splits the gallery (${expected.size})`);
    assert.deepEqual(hits.map((h) => h.lanId), [...expected.entries()].sort((a, b) => a[1] - b[1]).map(([w]) => w));
  }
});

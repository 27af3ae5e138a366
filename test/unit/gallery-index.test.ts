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

/**
 * The search as written before the shrinking bound: every face summed in full, the closest
 * of each employee (the first loaded at that distance), closest first, equal distances in
 * load order of those faces, at most `limit`. Squared sums in Float32 order as the index does.
 */
function bruteForce(all: IndexedFace[], probe: Float32Array, own: string, bound: number, removed: ReadonlySet<number>, limit: number) {
  const best = new Map<string, { i: number; d2: number }>();
  all.forEach((f, i) => {
    if (f.lanIdWeight === own || removed.has(f.trainImgId)) return;
    let d2 = 0;
    for (let k = 0; k < probe.length; k++) {
      const d = Math.fround(f.descriptor[k]!) - probe[k]!;
      d2 += d * d;
    }
    if (d2 >= bound * bound) return;
    const prev = best.get(f.lanIdWeight);
    if (!prev || d2 < prev.d2) best.set(f.lanIdWeight, { i, d2 });
  });
  return [...best.values()].sort((a, b) => a.d2 - b.d2 || a.i - b.i).slice(0, limit).map(({ i, d2 }) => ({ descriptorId: all[i]!.descriptorId, d2 }));
}

test('the shrinking bound finds what a brute-force scan finds: seeds, limits 1..5, removed faces, tied distances, with and without a bound', () => {
  let ties = 0;
  for (const seed of [1, 2, 3, 4, 5]) {
    const all: IndexedFace[] = [];
    for (let i = 0; i < 1500; i++) {
      // Faces 7m+5 and 7m+6 are copies of 7m+4 under other employees: exact ties.
      const descriptor = i % 7 >= 5 ? Float32Array.from(all[i - (i % 7) + 4]!.descriptor) : near(origin, 0.08, seed * 100_000 + i);
      all.push(face(i + 1, `E${(i * 13 + seed) % 200}`, descriptor));
    }
    const index = new GalleryIndex(128, 16);
    index.add(all);
    const removed = new Set(all.filter((_, i) => i % 11 === 3).map((f) => f.trainImgId));
    for (let q = 0; q < 6; q++) {
      // A probe that is a copied gallery face ties its copies at 0; the others are fresh.
      const probe = q % 2 === 0 ? Float32Array.from(all[7 * ((q * 31 + seed * 7) % 200) + 4]!.descriptor) : near(origin, 0.08, seed * 1000 + q);
      for (let limit = 1; limit <= 5; limit++) {
        for (const bound of [Infinity, 0.66]) {
          const hits = index.search({ descriptor: probe, lanIdWeight: `E${q}`, bound, removed, limit });
          const expected = bruteForce(all, probe, `E${q}`, bound, removed, limit);
          const more = bruteForce(all, probe, `E${q}`, bound, removed, limit + 1).map((e) => e.d2);
          if (more.some((d2, i) => i > 0 && d2 === more[i - 1])) ties++;
          assert.deepEqual(hits.map((h) => h.descriptorId), expected.map((e) => e.descriptorId), `seed ${seed}, probe ${q}, limit ${limit}, bound ${bound}`);
          hits.forEach((h, i) => assert.ok(Math.abs(h.distance - Math.sqrt(expected[i]!.d2)) < 1e-9));
        }
      }
    }
  }
  assert.ok(ties >= 20, `searches with tied distances among or at the edge of the results: ${ties}`);
});

test('the tie rule: at equal distances the face loaded first wins, also against an employee met first further away or a later copy of its own', () => {
  const probe = far(21);
  const copy = near(probe, 0.03, 22);
  const index = new GalleryIndex();
  // B's far face comes first; A's copy of the close face is loaded before B's.
  index.add([face(1, 'B', far(23)), face(2, 'A', copy), face(3, 'B', Float32Array.from(copy)), face(4, 'A', Float32Array.from(copy))]);
  const hits = index.search({ descriptor: probe, lanIdWeight: 'none', bound: Infinity, removed: new Set(), limit: 1 });
  assert.deepEqual(hits.map((h) => [h.lanId, h.descriptorId]), [['A', 2]], "A's own later copy does not replace its first");
  assert.deepEqual(index.search({ descriptor: probe, lanIdWeight: 'none', bound: Infinity, removed: new Set(), limit: 5 }).map((h) => [h.lanId, h.descriptorId]), [['A', 2], ['B', 3]]);
});

test('without a bound, the search sums far fewer faces in full once it has its employees', () => {
  const all: IndexedFace[] = [];
  for (let i = 0; i < 5000; i++) all.push(face(i + 1, `E${i % 1000}`, near(origin, 0.08, 7000 + i)));
  const index = new GalleryIndex();
  index.add(all);
  for (const limit of [1, 3, 32]) {
    const before = index.fullDistances;
    index.search({ descriptor: near(origin, 0.08, 99), lanIdWeight: 'none', bound: Infinity, removed: new Set(), limit });
    const full = index.fullDistances - before;
    // Without the shrinking bound every one of the 5000 faces was summed in full.
    assert.ok(full > 0 && full < 5000 / 4, `limit ${limit}: ${full} of 5000 summed in full`);
  }
  const before = index.fullDistances;
  index.search({ descriptor: near(origin, 0.08, 99), lanIdWeight: 'none', bound: Infinity, removed: new Set(), limit: 5000 });
  assert.equal(index.fullDistances - before, 5000, 'a limit past the employees abandons nothing: the counter counts');
});

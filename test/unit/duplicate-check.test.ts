import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ConfirmedFace, GalleryFaceRow, GalleryFacesRepository } from '../../db/repositories/gallery-faces.repository.ts';
import { duplicateChecker } from '../../shared/gallery/duplicate-check.ts';
import { createLogger } from '../../shared/logger.ts';

/** face_descriptor in memory; `confirm` says which candidates the database would confirm. */
function fakeFaces() {
  const rows: (GalleryFaceRow & { model: string })[] = [];
  const calls: { afterId: number; alsoIds: readonly number[] }[] = [];
  let confirm = (ids: readonly number[]): ConfirmedFace[] =>
    rows.filter((r) => ids.includes(r.descriptorId)).map((r) => ({ descriptorId: r.descriptorId, trainImgId: r.trainImgId, lanId: r.lanId }));
  const repo: GalleryFacesRepository = {
    async descriptorsAfter(model, afterId, alsoIds, limit) {
      calls.push({ afterId, alsoIds });
      return rows
        .filter((r) => r.model === model && (r.descriptorId > afterId || alsoIds.includes(r.descriptorId)))
        .sort((a, b) => a.descriptorId - b.descriptorId)
        .slice(0, limit);
    },
    async removedTrainImgIds() {
      return [];
    },
    async confirmOthers(ids) {
      return confirm(ids);
    },
  };
  const add = (id: number, lanId: string, at: number, model = 'm') =>
    rows.push({ descriptorId: id, trainImgId: id + 100, lanId, lanIdWeight: lanId.toUpperCase(), descriptor: vec(at), model });
  return { repo, rows, calls, add, setConfirm: (f: typeof confirm) => (confirm = f) };
}

/** A descriptor `at` away from the origin along the first axis. */
const vec = (at: number) => Float32Array.from({ length: 128 }, (_, i) => (i === 0 ? at : 0));
const silent = createLogger({ level: 'silent' });

test("the closest confirmed face of another employee within the bound; the employee's own faces and other models' do not count", async () => {
  const f = fakeFaces();
  f.add(1, 'NA\\self', 0.01);
  f.add(2, 'NA\\near', 0.3);
  f.add(3, 'NA\\nearer', 0.2);
  f.add(4, 'NA\\far', 0.9);
  f.add(5, 'NA\\othermodel', 0.0, 'other');
  const check = duplicateChecker({ faces: f.repo, model: 'm', bound: 0.65, log: silent });
  const v = await check.check({ descriptor: vec(0), lanId: 'na\\SELF', lanIdWeight: 'NA\\SELF' });
  assert.deepEqual(v.duplicateOf, { lanId: 'NA\\nearer', trainImgId: 103, distance: 0.2 });
  assert.equal(v.faces, 4);
  assert.equal(v.bound, 0.65);

  // The database did not confirm the closest (removed meanwhile, or an accepted pair): the next one is the duplicate.
  f.setConfirm((ids) => f.rows.filter((r) => ids.includes(r.descriptorId) && r.descriptorId !== 3).map((r) => ({ descriptorId: r.descriptorId, trainImgId: r.trainImgId, lanId: r.lanId })));
  assert.equal((await check.check({ descriptor: vec(0), lanId: 'NA\\self', lanIdWeight: 'NA\\SELF' })).duplicateOf?.lanId, 'NA\\near');
  f.setConfirm(() => []);
  assert.equal((await check.check({ descriptor: vec(0), lanId: 'NA\\self', lanIdWeight: 'NA\\SELF' })).duplicateOf, undefined);
});

test('faces added later are found by the next check; an id skipped by a transaction still in flight is asked for again', async () => {
  const f = fakeFaces();
  f.add(1, 'NA\\a', 0.9);
  f.add(2, 'NA\\b', 0.9);
  f.add(4, 'NA\\d', 0.9);
  const check = duplicateChecker({ faces: f.repo, model: 'm', bound: 0.65, log: silent });
  assert.equal((await check.check({ descriptor: vec(0), lanId: 'x', lanIdWeight: 'X' })).faces, 3);
  // Id 3 commits after 4 was loaded.
  f.add(3, 'NA\\late', 0.1);
  f.add(5, 'NA\\e', 0.9);
  const v = await check.check({ descriptor: vec(0), lanId: 'x', lanIdWeight: 'X' });
  assert.deepEqual(f.calls.at(-1), { afterId: 4, alsoIds: [3] });
  assert.equal(v.faces, 5);
  assert.equal(v.duplicateOf?.lanId, 'NA\\late');
  await check.refresh();
  assert.deepEqual(f.calls.at(-1), { afterId: 5, alsoIds: [] }, 'found, the hole is no longer asked for');
});

test('concurrent checks share the updates; a full reload after the interval drops deleted faces', async () => {
  const f = fakeFaces();
  for (let i = 1; i <= 5; i++) f.add(i, `NA\\e${i}`, 0.1 * i);
  let clock = 0;
  const check = duplicateChecker({ faces: f.repo, model: 'm', bound: 0.65, log: silent, reloadEveryMs: 1000, now: () => clock });
  const probe = { descriptor: vec(0), lanId: 'x', lanIdWeight: 'X' };
  await Promise.all(Array.from({ length: 10 }, () => check.check(probe)));
  assert.ok(f.calls.length <= 2, `${f.calls.length} loads for 10 checks`);
  assert.equal(check.size, 5);

  f.rows.splice(0, 2); // deleted with their employees
  clock = 2000;
  await check.refresh(); // starts the rebuild in the background
  await new Promise((r) => setTimeout(r, 10));
  await check.refresh(); // takes it up
  assert.equal(check.size, 3);
  assert.equal((await check.check(probe)).duplicateOf?.lanId, 'NA\\e3');
});

test('nearest: the closest confirmed face of each other employee however far, closest first, at most the limit', async () => {
  const f = fakeFaces();
  f.add(1, 'NA\\self', 0.01);
  f.add(2, 'NA\\near', 0.3);
  f.add(3, 'NA\\near', 0.5);
  f.add(4, 'NA\\far', 1.4);
  f.add(5, 'NA\\farther', 1.9);
  f.add(6, 'NA\\nearer', 0.2);
  const check = duplicateChecker({ faces: f.repo, model: 'm', bound: 0.35, log: silent });
  const probe = { descriptor: vec(0), lanId: 'NA\\self', lanIdWeight: 'NA\\SELF' };
  assert.deepEqual((await check.nearestMany([probe], 3))[0], [
    { lanId: 'NA\\nearer', trainImgId: 106, distance: 0.2 },
    { lanId: 'NA\\near', trainImgId: 102, distance: 0.3 },
    { lanId: 'NA\\far', trainImgId: 104, distance: 1.4 },
  ]);
  f.setConfirm((ids) => f.rows.filter((r) => ids.includes(r.descriptorId) && r.lanId !== 'NA\\near').map((r) => ({ descriptorId: r.descriptorId, trainImgId: r.trainImgId, lanId: r.lanId })));
  assert.deepEqual(((await check.nearestMany([probe], 3))[0]!).map((h) => h.lanId), ['NA\\nearer', 'NA\\far', 'NA\\farther'], 'an unconfirmed employee is left out');
  assert.equal((await check.check(probe)).duplicateOf?.lanId, 'NA\\nearer', 'the check keeps its bound');
});

test("nearestMany of a page answers each face as it does alone, with one index update and one read of the removed faces for them all", async () => {
  const f = fakeFaces();
  let removedReads = 0;
  const confirms: string[] = [];
  const removedTrainImgIds = f.repo.removedTrainImgIds;
  f.repo.removedTrainImgIds = async () => (removedReads++, removedTrainImgIds());
  const confirmOthers = f.repo.confirmOthers;
  f.repo.confirmOthers = async (ids, lanId, model) => (confirms.push(lanId), confirmOthers(ids, lanId, model));
  f.add(1, 'NA\\a', 0.1);
  f.add(2, 'NA\\b', 0.4);
  f.add(3, 'NA\\c', 0.8);
  f.add(4, 'NA\\d', 1.5);
  const check = duplicateChecker({ faces: f.repo, model: 'm', bound: 0.35, log: silent });
  const probes = [
    { descriptor: vec(0), lanId: 'NA\\a', lanIdWeight: 'NA\\A' },
    { descriptor: vec(1.4), lanId: 'NA\\x', lanIdWeight: 'NA\\X' },
    { descriptor: vec(0.5), lanId: 'NA\\b', lanIdWeight: 'NA\\B' },
  ];
  const one = [];
  for (const p of probes) one.push((await check.nearestMany([p], 2))[0]);
  const [updates, reads] = [f.calls.length, removedReads];
  confirms.length = 0;
  const many = await check.nearestMany(probes, 2);
  assert.deepEqual(many, one);
  assert.deepEqual(many.map((n) => n.map((h) => h.lanId)), [['NA\\b', 'NA\\c'], ['NA\\d', 'NA\\c'], ['NA\\c', 'NA\\a']]);
  assert.equal(f.calls.length - updates, 1, 'one index update for the page');
  assert.equal(removedReads - reads, 1, 'one read of the removed faces for the page');
  assert.deepEqual(confirms, ['NA\\a', 'NA\\x', 'NA\\b'], "each face's candidates confirmed against its own employee");
  assert.deepEqual(await check.nearestMany([], 3), []);
});

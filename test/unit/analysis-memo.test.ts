import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analysisMemo } from '../../services/facestreaming/analysis-memo.ts';

const deferred = <T>() => {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
};

test('a job joins the analysis another job has under way; it is forgotten when its owner ends', async () => {
  const memo = analysisMemo<string>();
  const owner = memo.scope();
  const other = memo.scope();
  const d = deferred<string>();
  let runs = 0;
  const run = () => (runs++, d.promise);
  const mine = owner.analyse(1, run);
  const joined = other.analyse(1, () => Promise.resolve('second run'));
  d.resolve('first run');
  assert.deepEqual(await Promise.all([mine, joined]), ['first run', 'first run']);
  assert.equal(runs, 1);
  assert.equal(memo.size, 1);
  other.end();
  assert.equal(memo.size, 1, 'a job that only joined does not forget what it did not start');
  owner.end();
  assert.equal(memo.size, 0);
  assert.equal(await memo.scope().analyse(1, async () => 'fresh'), 'fresh');
});

test('a failed analysis rejects for every job awaiting it, and is never an unhandled rejection', async () => {
  const memo = analysisMemo<string>();
  const d = deferred<string>();
  const a = memo.scope().analyse(7, () => d.promise);
  const b = memo.scope().analyse(7, async () => 'not run');
  d.reject(new Error('thread died'));
  await assert.rejects(a, /thread died/);
  await assert.rejects(b, /thread died/);
});

test('bounded: past maxEntries a job keeps its own analyses for itself, unshared', async () => {
  const memo = analysisMemo<number>(2);
  const s = memo.scope();
  let runs = 0;
  const run = (v: number) => async () => (runs++, v);
  await Promise.all([s.analyse(1, run(1)), s.analyse(2, run(2)), s.analyse(3, run(3))]);
  assert.equal(memo.size, 2);
  assert.equal(await s.analyse(3, run(33)), 3, 'its own, kept though not shared');
  assert.equal(await memo.scope().analyse(3, run(30)), 30, 'another job runs its own');
  assert.equal(runs, 4);
  s.end();
  assert.equal(memo.size, 0);
});

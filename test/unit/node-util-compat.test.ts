// tfjs-node 4.22 calls util.isNullOrUndefined, which Node 23 removed; the engine puts it
// back before tfjs-node loads. Run on any Node: the function is taken away first.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { restoreUtilForTfjsNode } from '../../shared/face/node-util-compat.ts';

const util = createRequire(import.meta.url)('node:util') as Record<string, unknown>;

test('restoreUtilForTfjsNode: util.isNullOrUndefined is back, as CommonJS callers such as tfjs-node reach it, with its documented meaning', (t) => {
  const own = Object.getOwnPropertyDescriptor(util, 'isNullOrUndefined');
  t.after(() => {
    if (own) Object.defineProperty(util, 'isNullOrUndefined', own);
    else delete util.isNullOrUndefined;
  });
  delete util.isNullOrUndefined;
  assert.equal(typeof util.isNullOrUndefined, 'undefined', 'taken away, as on Node 23 and later');
  restoreUtilForTfjsNode();
  // tfjs-node's compiled call: `(0, util_1.isNullOrUndefined)(value)`.
  const isNullOrUndefined = util.isNullOrUndefined as (v: unknown) => boolean;
  assert.deepEqual([null, undefined, 0, '', false, NaN, {}, []].map((v) => isNullOrUndefined(v)), [true, true, false, false, false, false, false, false]);
  assert.equal(typeof util.isArray, 'function', "tfjs-node's other legacy call is still there");
});

test('restoreUtilForTfjsNode keeps a Node that still has the function as it is', (t) => {
  const own = Object.getOwnPropertyDescriptor(util, 'isNullOrUndefined');
  t.after(() => {
    if (own) Object.defineProperty(util, 'isNullOrUndefined', own);
    else delete util.isNullOrUndefined;
  });
  const mine = (v: unknown) => v == null;
  util.isNullOrUndefined = mine;
  restoreUtilForTfjsNode();
  assert.equal(util.isNullOrUndefined, mine);
});

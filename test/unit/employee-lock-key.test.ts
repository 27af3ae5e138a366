import { test } from 'node:test';
import assert from 'node:assert/strict';
import { employeeLockKey, hasControlCharacters } from '../../shared/employee-lock-key.ts';

// The key is made from the server's weight of a lan_id (test/integration/lan-id-fold.test.ts
// checks that against the server itself): one weight, one key; the key names no one.

test('one weight, one employee lock key, whatever the letter case of its hex', () => {
  const ann = '207521F721F7002000200020';
  assert.equal(employeeLockKey(ann), employeeLockKey(ann.toLowerCase()));
  assert.match(employeeLockKey(ann), /^employee:[0-9a-f]{64}$/);
  assert.ok(!employeeLockKey(ann).includes(ann), 'the weight (as good as the name) is not in the key');
});

test('different weights get different keys, the empty weight (a name of ignorable characters only) one of its own', () => {
  const keys = ['207521F721F7002000200020', '207521F721F70209002000200020', '', '00'].map(employeeLockKey);
  assert.equal(new Set(keys).size, keys.length);
});

test('a lan_id given where its weight belongs is refused, not made into a lock of its own', () => {
  for (const notHex of ['ann', 'NA\\ada', '2075 21F7', 'ABC']) assert.throws(() => employeeLockKey(notHex), /WEIGHT_STRING/, notHex);
});

test('control characters are what a lan_id argument may not hold', () => {
  assert.equal(hasControlCharacters('NA\\ada'), false);
  assert.equal(hasControlCharacters('josé '), false);
  for (const bad of ['a\r', 'a\nb', '\u001b[2J', 'a\u0000', 'a\u009b']) assert.equal(hasControlCharacters(bad), true, JSON.stringify(bad));
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { employeeLockKey, hasControlCharacters, lanIdFold } from '../../shared/employee-lock-key.ts';

// The lock key may be coarser than the database's identity rule, never finer: names the
// collation holds equal must share a lock (test/integration/lan-id-fold.test.ts checks
// this against the server itself).

test('names equal under the identity rule share one employee lock', () => {
  const same: string[][] = [
    ['NA\\nvep5898', 'na\\NVEP5898', 'Na\\NvEp5898'],
    ['josé', 'José', 'JOSÉ', 'jose\u0301', 'JOSE\u0301'],
    ['ann', 'ANN', 'a\u00adnn', 'an\u200bn', 'ann\u0001', 'ａｎｎ'],
    ['straße', 'STRASSE', 'strasse', 'STRAẞE'],
    ['ア', 'あ', 'ｱ', 'ぁ'],
    ['user٣', 'user3', 'user۳', 'user³'],
    ['a b', 'a\u00a0b', 'a\u2003b'],
    ['ﬁle', 'file'],
    ['a\u0363', 'aa'],
  ];
  for (const group of same) {
    const keys = new Set(group.map(employeeLockKey));
    assert.equal(keys.size, 1, `${JSON.stringify(group)} → ${JSON.stringify([...keys])}`);
  }
});

test('the lock key is coarser than the rule where that is safe: accents and trailing spaces are dropped', () => {
  assert.equal(employeeLockKey('josé'), employeeLockKey('jose'));
  assert.equal(employeeLockKey('jose '), employeeLockKey('jose'));
  assert.equal(lanIdFold('ÁNN'), 'ann');
  // The collation tells dotless ı from i; the fold, by way of upper case, does not.
  assert.equal(employeeLockKey('ı'), employeeLockKey('i'));
});

test('different people get different locks', () => {
  const keys = ['NA\\ada', 'NA\\bob', 'EU\\ada', 'ada', 'NA\\ada2', 'NA\\a da'].map(employeeLockKey);
  assert.equal(new Set(keys).size, keys.length);
  assert.equal(employeeLockKey('NA\\Ada'), 'employee:na\\ada');
});

test('control characters are what a lan_id argument may not hold', () => {
  assert.equal(hasControlCharacters('NA\\ada'), false);
  assert.equal(hasControlCharacters('josé '), false);
  for (const bad of ['a\r', 'a\nb', '\u001b[2J', 'a\u0000', 'a\u009b']) assert.equal(hasControlCharacters(bad), true, JSON.stringify(bad));
});

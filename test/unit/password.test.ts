import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkNewPassword, generatePassword, hashPassword, verifyPassword } from '../../shared/accounts/password.ts';
import { checkAccountName } from '../../shared/accounts/account-name.ts';

test('a hash names its parameters, salt and key, and verifies the password it was made from and no other', async () => {
  const stored = await hashPassword('correct horse battery staple');
  const m = /^scrypt\$N=32768,r=8,p=1\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$/.exec(stored);
  assert.ok(m, stored);
  assert.equal(Buffer.from(m[1]!, 'base64').length, 16, 'a 16-byte salt');
  assert.ok(Buffer.from(m[2]!, 'base64').length >= 32, 'a key of 32 bytes or more');
  assert.equal(await verifyPassword('correct horse battery staple', stored), true);
  assert.equal(await verifyPassword('correct horse battery stapl', stored), false);
  assert.equal(await verifyPassword('', stored), false);
});

test('the same password hashes differently each time (a random salt), and both verify', async () => {
  const [a, b] = await Promise.all([hashPassword('the same password'), hashPassword('the same password')]);
  assert.notEqual(a, b);
  assert.equal(await verifyPassword('the same password', a), true);
  assert.equal(await verifyPassword('the same password', b), true);
});

test('a composed and a decomposed accent are the same password', async () => {
  const stored = await hashPassword('caf\u00e9-au-lait-2026');
  assert.equal(await verifyPassword('cafe\u0301-au-lait-2026', stored), true);
});

test('a stored string that is not such a hash, or asks for too much memory, verifies nothing instead of throwing', async () => {
  const good = await hashPassword('a long enough password');
  const [, , salt, key] = good.split('$');
  for (const bad of ['', 'plain', `scrypt$N=32768,r=8,p=1$${salt}`, `bcrypt$N=32768,r=8,p=1$${salt}$${key}`, `scrypt$N=1000,r=8,p=1$${salt}$${key}`, `scrypt$N=4194304,r=8,p=1$${salt}$${key}`]) {
    assert.equal(await verifyPassword('a long enough password', bad), false, bad);
  }
});

test('generated passwords are long, URL-safe and different', () => {
  const all = new Set(Array.from({ length: 50 }, generatePassword));
  assert.equal(all.size, 50);
  for (const p of all) assert.match(p, /^[A-Za-z0-9_-]{24}$/);
});

test('a chosen password must have 12 characters or more', () => {
  assert.throws(() => checkNewPassword(''), /PASSWORD_EMPTY/);
  assert.throws(() => checkNewPassword('elevenchars'), /PASSWORD_TOO_SHORT/);
  assert.throws(() => checkNewPassword('x'.repeat(1025)), /PASSWORD_TOO_LONG/);
  checkNewPassword('twelve chars');
});

test('account names: 1 to 64 characters, no controls or invisible characters, no white space at the ends', () => {
  for (const ok of ['ada', 'Ada Lovelace', 'NA\\ada', 'jos\u00e9', 'x'.repeat(64), '\u{1F600}'.repeat(64)]) checkAccountName(ok);
  for (const bad of ['', 'x'.repeat(65), ' ada', 'ada ', 'ada\n', 'a\u0000b', 'a\u009bb', 'a\u202eb', 'a\u200db', '\tada']) {
    assert.throws(() => checkAccountName(bad), /ACCOUNT_NAME_INVALID/, JSON.stringify(bad));
  }
});

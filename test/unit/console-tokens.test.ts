// The console's small security rules, without a server: where a sign-in may go next, how
// secrets are compared, and its configuration (the Secure cookie, trusted proxies).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig, ConfigError } from '../../services/config.ts';
import { signinAccountKey } from '../../services/console/signin.ts';
import { newToken, safeNext, sameSecret, sha256Hex, tokenShaped } from '../../services/console/tokens.ts';

test('safeNext keeps a path on this console and sends anything else to /', () => {
  for (const ok of ['/', '/review/snapshot/42', '/employees/DOMAIN%5Cann?tab=gallery#faces']) assert.equal(safeNext(ok), ok);
  for (const bad of ['', '//evil.example', '//evil.example/x', '/\\evil.example', '\\\\evil.example', 'https://evil.example', 'javascript:alert(1)', 'evil', '/\tx', '/a\nb', undefined, 42, ['/'], `/${'a'.repeat(3000)}`]) {
    assert.equal(safeNext(bad), '/', JSON.stringify(bad));
  }
});

test('tokens are 32 random bytes in base64url, each new; only token-shaped cookies are looked up', () => {
  const a = newToken();
  assert.ok(tokenShaped(a));
  assert.notEqual(a, newToken());
  for (const bad of ['', 'short', `${a}x`, `${a.slice(0, 42)}=`, undefined, 7]) assert.equal(tokenShaped(bad), false, String(bad));
  assert.match(sha256Hex(a), /^[0-9a-f]{64}$/);
});

test('sameSecret: equal strings only, never an empty or missing one', () => {
  assert.equal(sameSecret('abc', 'abc'), true);
  assert.equal(sameSecret('abc', 'abd'), false);
  assert.equal(sameSecret('abc', 'abcd'), false);
  assert.equal(sameSecret('', ''), false);
  assert.equal(sameSecret(undefined, 'abc'), false);
  assert.equal(sameSecret('abc', undefined), false);
});

test('the console section: defaults, Secure derived from an https CONSOLE_URL unless set, durations and proxies checked', () => {
  const d = loadConfig({}).console;
  assert.deepEqual(d, { port: 8080, url: undefined, sessionIdleMs: 30 * 60_000, sessionMaxMs: 12 * 3_600_000, secureCookie: false, signinMaxFailures: 5, signinWindowMs: 15 * 60_000, trustProxy: [], grafanaUrl: undefined, metabaseUrl: undefined });
  assert.equal(loadConfig({ CONSOLE_URL: 'https://vigil.example.org' }).console.secureCookie, true);
  assert.equal(loadConfig({ CONSOLE_URL: 'http://vigil.lan:8080' }).console.secureCookie, false);
  assert.equal(loadConfig({ CONSOLE_URL: 'https://vigil.example.org', CONSOLE_SECURE_COOKIE: 'false' }).console.secureCookie, false);
  assert.equal(loadConfig({ CONSOLE_SECURE_COOKIE: 'true' }).console.secureCookie, true);
  assert.deepEqual(loadConfig({ CONSOLE_TRUST_PROXY: '10.0.0.1, 172.16.0.0/12,::1' }).console.trustProxy, ['10.0.0.1', '172.16.0.0/12', '::1']);
  const bad: [string, string][] = [['CONSOLE_PORT', '70000'], ['CONSOLE_URL', 'ftp://x'], ['CONSOLE_SESSION_IDLE', 'soon'], ['CONSOLE_TRUST_PROXY', '10.0.0.0/33'], ['CONSOLE_TRUST_PROXY', 'proxy.lan'], ['CONSOLE_SECURE_COOKIE', 'maybe']];
  for (const [variable, value] of bad) {
    assert.throws(() => loadConfig({ [variable]: value }), (err: unknown) => err instanceof ConfigError && err.message.includes(variable), `${variable}=${value}`);
  }
});

test('the throttle key of an unknown name folds case, accents and trailing spaces as the account lookup does; a real account is keyed by id', () => {
  const key = signinAccountKey(undefined, 'josé');
  for (const spelling of ['Jose', 'JOSÉ ', 'jose\u0301  ', 'JoSe']) assert.equal(signinAccountKey(undefined, spelling), key, spelling);
  assert.notEqual(signinAccountKey(undefined, 'josef'), key);
  assert.notEqual(signinAccountKey(undefined, ' jose'), key, 'leading spaces count in the lookup too');
  assert.equal(signinAccountKey({ id: 7 }, 'josé'), signinAccountKey({ id: 7 }, 'anything'));
  assert.notEqual(signinAccountKey({ id: 7 }, 'josé'), key);
});

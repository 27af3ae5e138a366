// The supervisor console's foundation (issue 28, CONTRACT.md "Console"): sign-in, sessions in
// the database, CSRF, roles checked on the server, throttling and security headers, through
// `app.inject` on the real MariaDB.
import { after, before, test } from 'node:test';
import { readFileSync } from 'node:fs';
import assert from 'node:assert/strict';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { sql } from 'kysely';
import { listAudit } from '../../db/repositories/audit.repository.ts';
import { consoleUserRepository } from '../../db/repositories/console-user.repository.ts';
import { hashPassword } from '../../shared/accounts/password.ts';
import type { Role } from '../../shared/contract/roles.ts';
import { createLogger } from '../../shared/logger.ts';
import { buildConsoleApp, consoleRoute } from '../../services/console/app.ts';
import { consoleHousekeeping } from '../../services/console/housekeeping.ts';
import { signinAccountKey } from '../../services/console/signin.ts';
import { sha256Hex } from '../../services/console/tokens.ts';
import { consoleSessionRepository } from '../../db/repositories/console-session.repository.ts';
import { consoleSigninRepository } from '../../db/repositories/console-signin.repository.ts';
import { INLINE_CODE } from '../helpers/console-client.ts';
import { createTestEnv, type TestEnv } from '../helpers/test-env.ts';

const PASSWORD = 'correct horse battery staple';
let t: TestEnv;
let app: FastifyInstance;
let nextAddress = 1;
/** A client address of its own per test, so one test's failures never throttle another's. */
const address = () => `10.28.0.${nextAddress++}`;

before(async () => {
  t = await createTestEnv('consoleauth', { CONSOLE_SESSION_IDLE: '30m', CONSOLE_SESSION_MAX: '12h', CONSOLE_SIGNIN_MAX_FAILURES: '5', CONSOLE_SIGNIN_WINDOW: '15m' });
  const hash = await hashPassword(PASSWORD);
  const users = consoleUserRepository(t.database().db);
  const accounts: [string, Role][] = [['vera', 'viewer'], ['sam', 'supervisor'], ['tess', 'teamlead'], ['dora', 'viewer'], ['idle', 'viewer'], ['old', 'viewer'], ['locked', 'viewer'], ['<b>x</b>&"', 'admin'], ['audited', 'viewer']];
  for (const [name, role] of accounts) assert.ok(await users.add({ name, role, passwordHash: hash, by: 'test' }));
  app = await buildConsoleApp({ db: t.database().db, config: t.config.console, logger: createLogger({ level: 'silent' }) });
  // A route of a page to come, declared as every page is: through the app's helper, with its role.
  consoleRoute(app, { method: 'GET', url: '/test/teamlead', role: 'teamlead', handler: async () => 'approved\n' });
  consoleRoute(app, { method: 'POST', url: '/test/change', role: 'viewer', handler: async () => 'changed\n' });
  await app.ready();
});
after(async () => {
  await app?.close();
  await t.cleanup();
});

const cookieOf = (r: LightMyRequestResponse, name: string) => r.cookies.find((c) => c.name === name);

/** The sign-in page's form token and its cookie, as a browser gets them. */
async function openLogin(remoteAddress: string, cookies: Record<string, string> = {}): Promise<{ formToken: string; cookies: Record<string, string> }> {
  const r = await app.inject({ method: 'GET', url: '/login', remoteAddress, cookies, headers: { accept: 'text/html' } });
  assert.equal(r.statusCode, 200);
  const formToken = /name="_csrf" value="([^"]+)"/.exec(r.body)![1]!;
  const form = cookieOf(r, 'vigil_login')!;
  return { formToken, cookies: { ...cookies, vigil_login: form.value } };
}

async function postLogin(username: string, password: string, opts: { remoteAddress?: string; next?: string; cookies?: Record<string, string> } = {}): Promise<LightMyRequestResponse> {
  const remoteAddress = opts.remoteAddress ?? address();
  const form = await openLogin(remoteAddress, opts.cookies);
  const payload = new URLSearchParams({ username, password, _csrf: form.formToken, ...(opts.next !== undefined && { next: opts.next }) }).toString();
  return app.inject({ method: 'POST', url: '/login', remoteAddress, cookies: form.cookies, payload, headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' } });
}

/** Signs in and answers the session cookie's value and the page's CSRF token. */
async function signIn(username: string): Promise<{ session: string; csrf: string }> {
  const r = await postLogin(username, PASSWORD);
  assert.equal(r.statusCode, 303, r.body);
  const session = cookieOf(r, 'vigil_session')!.value;
  const home = await app.inject({ method: 'GET', url: '/', cookies: { vigil_session: session }, headers: { accept: 'text/html' } });
  assert.equal(home.statusCode, 200);
  return { session, csrf: /name="_csrf" value="([^"]+)"/.exec(home.body)![1]! };
}

const sessionRows = async (token: string) => (await t.database().db.selectFrom('console_session').selectAll().where('id', '=', sha256Hex(token)).execute()).length;

test('without a session, a page request is sent to /login (303) and any other request answers 401, unknown paths included', async () => {
  const page = await app.inject({ method: 'GET', url: '/', headers: { accept: 'text/html,application/xhtml+xml' } });
  assert.equal(page.statusCode, 303);
  assert.equal(page.headers.location, '/login');
  const deep = await app.inject({ method: 'GET', url: '/review/snapshot/42', headers: { accept: 'text/html' } });
  assert.equal(deep.statusCode, 303);
  assert.equal(deep.headers.location, '/login?next=%2Freview%2Fsnapshot%2F42', 'the deep link comes back after sign-in');
  for (const accept of ['application/json', 'image/avif,image/webp,*/*', undefined]) {
    const r = await app.inject({ method: 'GET', url: '/review/snapshot/42/image', headers: accept ? { accept } : {} });
    assert.equal(r.statusCode, 401, String(accept));
  }
  const bogus = await app.inject({ method: 'GET', url: '/', cookies: { vigil_session: 'A'.repeat(43) }, headers: { accept: 'application/json' } });
  assert.equal(bogus.statusCode, 401, 'a cookie naming no session is no session');
  const post = await app.inject({ method: 'POST', url: '/logout', headers: { accept: 'application/json' } });
  assert.equal(post.statusCode, 401);
});

test('the sign-in page is a form posting username and password, with its own token, and no inline script or style', async () => {
  const r = await app.inject({ method: 'GET', url: '/login', headers: { accept: 'text/html' } });
  assert.equal(r.statusCode, 200);
  assert.match(r.body, /<form method="post" action="\/login">/);
  assert.match(r.body, /name="username"/);
  assert.match(r.body, /name="password" type="password"/);
  assert.doesNotMatch(r.body, INLINE_CODE);
  const form = cookieOf(r, 'vigil_login')!;
  assert.deepEqual([form.httpOnly, form.sameSite, form.path], [true, 'Strict', '/login']);
  const css = await app.inject({ method: 'GET', url: '/assets/console.css' });
  assert.equal(css.statusCode, 200);
  assert.match(String(css.headers['content-type']), /^text\/css/);
});

test('the scripts come from the console itself without a session (htmx 2 from node_modules, the shortcuts), and nothing else of their folders', async () => {
  for (const [url, says] of [['/assets/htmx.min.js', /htmx/], ['/assets/console.js', /data-key/]] as const) {
    const r = await app.inject({ method: 'GET', url });
    assert.equal(r.statusCode, 200, url);
    assert.match(String(r.headers['content-type']), /javascript/);
    assert.match(String(r.headers['cache-control']), /public, max-age=3600/);
    assert.match(r.body, says);
  }
  const version = JSON.parse(readFileSync(new URL('../../node_modules/htmx.org/package.json', import.meta.url), 'utf8')).version as string;
  assert.match(version, /^2\./, 'htmx 2.x, pinned below 4');
  for (const url of ['/assets/htmx.js', '/assets/htmx.esm.js', '/assets/../package.json', '/assets/%2e%2e/package.json', '/assets/']) {
    const r = await app.inject({ method: 'GET', url, headers: { accept: 'text/html' } });
    assert.ok(r.statusCode === 404 || r.statusCode === 303 || r.statusCode === 403, `${url}: ${r.statusCode}`);
    assert.doesNotMatch(r.body, /"name": "vigil"|htmx/, url);
  }
});

test('a sign-in sets an HttpOnly SameSite=Strict session cookie with a new id every time, stores only its hash, and redirects', async () => {
  const before = await postLogin('vera', PASSWORD);
  assert.equal(before.statusCode, 303);
  assert.equal(before.headers.location, '/');
  const c = cookieOf(before, 'vigil_session')!;
  assert.deepEqual([c.httpOnly, c.sameSite, c.path, c.secure ?? false], [true, 'Strict', '/', false]);
  assert.match(c.value, /^[A-Za-z0-9_-]{43}$/, '32 random bytes, base64url');
  assert.equal(await sessionRows(c.value), 1);
  const raw = await t.database().db.selectFrom('console_session').select('id').execute();
  assert.ok(!raw.some((r) => r.id === c.value), 'the table keeps the sha256, not the token');

  // Signing in again with the old cookie: a new id, and the old session is ended, not reused.
  const again = await postLogin('vera', PASSWORD, { cookies: { vigil_session: c.value } });
  assert.equal(again.statusCode, 303);
  const c2 = cookieOf(again, 'vigil_session')!;
  assert.notEqual(c2.value, c.value);
  assert.equal(await sessionRows(c.value), 0);
  // A value the client made up before signing in is never adopted either.
  const planted = 'P'.repeat(43);
  const fixed = await postLogin('vera', PASSWORD, { cookies: { vigil_session: planted } });
  assert.notEqual(cookieOf(fixed, 'vigil_session')!.value, planted);
  assert.equal(await sessionRows(planted), 0);

  const home = await app.inject({ method: 'GET', url: '/', cookies: { vigil_session: c2.value }, headers: { accept: 'text/html' } });
  assert.equal(home.statusCode, 200);
  assert.match(home.body, /Signed in as <strong>vera<\/strong> \(viewer\)/);
  assert.match(home.body, /<a href="\/review">Review queue<\/a>/);
  assert.equal(home.headers['cache-control'], 'no-store');
});

test('a wrong password and an unknown account give the same 401 page, byte for byte; a disabled account too', async () => {
  const remoteAddress = address();
  const form = await openLogin(remoteAddress);
  const attempt = (username: string, password = 'not the password at all') =>
    app.inject({
      method: 'POST', url: '/login', remoteAddress, cookies: form.cookies,
      payload: new URLSearchParams({ username, password, _csrf: form.formToken }).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
  const wrong = await attempt('dora');
  const unknown = await attempt('nobody-by-this-name');
  assert.equal(wrong.statusCode, 401);
  assert.equal(unknown.statusCode, 401);
  assert.equal(wrong.body, unknown.body);
  assert.match(wrong.body, /Wrong account name or password\./);
  assert.equal(cookieOf(wrong, 'vigil_session'), undefined);

  const { session } = await signIn('dora');
  await t.database().db.updateTable('console_user').set({ disabled_at: new Date() }).where('name', '=', 'dora').execute();
  const disabled = await attempt('dora', PASSWORD);
  assert.equal(disabled.statusCode, 401);
  assert.equal(disabled.body, wrong.body, 'the right password of a disabled account: the same answer');
  // A session of an account disabled behind the console's back no longer works, and is removed.
  const r = await app.inject({ method: 'GET', url: '/', cookies: { vigil_session: session }, headers: { accept: 'application/json' } });
  assert.equal(r.statusCode, 401);
  assert.equal(await sessionRows(session), 0);
});

test('the sign-in form needs its own token (login CSRF): a cross-site post without it is refused', async () => {
  const r = await app.inject({
    method: 'POST', url: '/login', payload: new URLSearchParams({ username: 'vera', password: PASSWORD }).toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  });
  assert.equal(r.statusCode, 403);
  assert.equal(cookieOf(r, 'vigil_session'), undefined);
});

test('logout needs the CSRF token: without it 403 and the session lives; with it the session is gone from the database', async () => {
  const { session, csrf } = await signIn('sam');
  const form = { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' };
  const bare = await app.inject({ method: 'POST', url: '/logout', cookies: { vigil_session: session }, headers: form, payload: '' });
  assert.equal(bare.statusCode, 403);
  const wrong = await app.inject({ method: 'POST', url: '/logout', cookies: { vigil_session: session }, headers: { ...form, 'x-csrf-token': 'f'.repeat(64) }, payload: '' });
  assert.equal(wrong.statusCode, 403);
  assert.equal(await sessionRows(session), 1);
  // Any other change needs it too.
  const change = await app.inject({ method: 'POST', url: '/test/change', cookies: { vigil_session: session }, headers: form, payload: 'a=1' });
  assert.equal(change.statusCode, 403);
  const changed = await app.inject({ method: 'POST', url: '/test/change', cookies: { vigil_session: session }, headers: { 'x-csrf-token': csrf } });
  assert.equal(changed.statusCode, 200);

  const out = await app.inject({ method: 'POST', url: '/logout', cookies: { vigil_session: session }, headers: form, payload: `_csrf=${csrf}` });
  assert.equal(out.statusCode, 303);
  assert.equal(out.headers.location, '/login');
  assert.equal(await sessionRows(session), 0);
  const after = await app.inject({ method: 'GET', url: '/', cookies: { vigil_session: session }, headers: { accept: 'text/html' } });
  assert.equal(after.statusCode, 303);
});

test('a session unused past CONSOLE_SESSION_IDLE, or older than CONSOLE_SESSION_MAX, is deleted and counts as none', async () => {
  const db = t.database().db;
  const idle = await signIn('idle');
  await db.updateTable('console_session').set({ last_seen_at: sql<Date>`UTC_TIMESTAMP(3) - INTERVAL 31 MINUTE` }).where('id', '=', sha256Hex(idle.session)).execute();
  const r1 = await app.inject({ method: 'GET', url: '/', cookies: { vigil_session: idle.session }, headers: { accept: 'text/html' } });
  assert.equal(r1.statusCode, 303);
  assert.equal(await sessionRows(idle.session), 0);

  const old = await signIn('old');
  // Used a moment ago, but signed in 13 hours ago.
  await sql`UPDATE console_session SET created_at = UTC_TIMESTAMP(3) - INTERVAL 13 HOUR WHERE id = ${sha256Hex(old.session)}`.execute(db);
  const r2 = await app.inject({ method: 'GET', url: '/', cookies: { vigil_session: old.session }, headers: { accept: 'application/json' } });
  assert.equal(r2.statusCode, 401);
  assert.equal(await sessionRows(old.session), 0);

  // A live one is touched at most once a minute.
  const live = await signIn('vera');
  await db.updateTable('console_session').set({ last_seen_at: sql<Date>`UTC_TIMESTAMP(3) - INTERVAL 5 MINUTE` }).where('id', '=', sha256Hex(live.session)).execute();
  const seen = async () => (await db.selectFrom('console_session').select('last_seen_at').where('id', '=', sha256Hex(live.session)).executeTakeFirstOrThrow()).last_seen_at.getTime();
  const before = await seen();
  assert.equal((await app.inject({ method: 'GET', url: '/', cookies: { vigil_session: live.session } })).statusCode, 200);
  const touched = await seen();
  assert.ok(touched - before > 4 * 60_000, 'last_seen_at moved to now');
  assert.equal((await app.inject({ method: 'GET', url: '/', cookies: { vigil_session: live.session } })).statusCode, 200);
  assert.equal(await seen(), touched, 'not written again within the minute');
});

test('five failures lock an account name (from any address) and an address (for any name), unknown names alike, with the same answer', async () => {
  // Per account: five addresses, one failure each.
  for (let i = 0; i < 5; i++) assert.equal((await postLogin('locked', 'wrong password!')).statusCode, 401);
  const lockedOut = await postLogin('locked', PASSWORD);
  assert.equal(lockedOut.statusCode, 429, 'the right password is not even tried');
  assert.ok(Number(lockedOut.headers['retry-after']) > 0);
  assert.equal(cookieOf(lockedOut, 'vigil_session'), undefined);
  // An unknown name locks the same way, with the same page.
  for (let i = 0; i < 5; i++) assert.equal((await postLogin('ghost-account', 'wrong password!')).statusCode, 401);
  const ghost = await postLogin('ghost-account', 'wrong password!');
  assert.equal(ghost.statusCode, 429);
  assert.equal(ghost.body.replace(/value="[^"]*"/g, ''), lockedOut.body.replace(/value="[^"]*"/g, ''), 'no hint whether the name exists');
  // Other spellings of a real account's name (case, trailing space) share its count: the lookup finds them all.
  for (const spelling of ['Tess', 'TESS ', 'tess  ']) assert.equal((await postLogin(spelling, 'wrong password!')).statusCode, 401, spelling);
  for (const spelling of ['tess', 'tEss   ']) assert.equal((await postLogin(spelling, 'wrong password!')).statusCode, 401, spelling);
  assert.equal((await postLogin('tess ', PASSWORD)).statusCode, 429, 'five failures under five spellings lock the one account');
  await t.database().db.deleteFrom('console_signin_failure').where('key', '=', signinAccountKey({ id: (await consoleUserRepository(t.database().db).findByName('tess'))!.id }, 'tess')).execute();
  // Per address: one address, five names.
  const remoteAddress = address();
  for (let i = 0; i < 5; i++) assert.equal((await postLogin(`guess-${i}`, 'wrong password!', { remoteAddress })).statusCode, 401);
  assert.equal((await postLogin('tess', PASSWORD, { remoteAddress })).statusCode, 429);
  assert.equal((await postLogin('tess', PASSWORD)).statusCode, 303, 'the account itself is not locked, from another address');
  // When the lock has run out, the name may sign in again.
  await t.database().db.updateTable('console_signin_failure').set({ locked_until: sql<Date>`UTC_TIMESTAMP(3) - INTERVAL 1 SECOND`, window_start: sql<Date>`UTC_TIMESTAMP(3) - INTERVAL 16 MINUTE` }).execute();
  assert.equal((await postLogin('locked', PASSWORD)).statusCode, 303);
  const stored = await t.database().db.selectFrom('console_signin_failure').select('key').execute();
  assert.ok(!stored.some((r) => r.key.includes('ghost')), 'names are kept as hashes');
});

test('a burst of parallel guesses gets no more tries than the limit; a success costs its address nothing', async () => {
  const answers = await Promise.all(Array.from({ length: 15 }, () => postLogin('burst-target', 'parallel guess!')));
  const codes = answers.map((r) => r.statusCode);
  assert.ok(codes.filter((c) => c === 401).length <= 5, codes.join(','));
  assert.ok(codes.every((c) => c === 401 || c === 429), codes.join(','));

  // Sign-ins that succeed cost an address nothing; its failures stay counted (a success does
  // not wipe them, or one account would reset the throttle for a guesser at that address).
  const remoteAddress = address();
  for (let i = 0; i < 4; i++) assert.equal((await postLogin(`typo-${i}`, 'wrong password!', { remoteAddress })).statusCode, 401);
  for (let i = 0; i < 3; i++) assert.equal((await postLogin('vera', PASSWORD, { remoteAddress })).statusCode, 303, `success ${i}`);
  assert.equal((await postLogin('typo-5', 'wrong password!', { remoteAddress })).statusCode, 401, 'the fifth failure');
  assert.equal((await postLogin('vera', PASSWORD, { remoteAddress })).statusCode, 429, 'then the address is locked');
});

test('housekeeping removes sessions never seen again and throttle rows long past, and keeps the live ones', async () => {
  const db = t.database().db;
  const live = await signIn('vera');
  const stale = await signIn('sam');
  const old = await signIn('tess');
  await db.updateTable('console_session').set({ last_seen_at: sql<Date>`UTC_TIMESTAMP(3) - INTERVAL 2 HOUR` }).where('id', '=', sha256Hex(stale.session)).execute();
  await sql`UPDATE console_session SET created_at = UTC_TIMESTAMP(3) - INTERVAL 2 DAY WHERE id = ${sha256Hex(old.session)}`.execute(db);
  await postLogin('housekeeping-old', 'wrong password!');
  await postLogin('housekeeping-new', 'wrong password!');
  await db.updateTable('console_signin_failure').set({ window_start: sql<Date>`UTC_TIMESTAMP(3) - INTERVAL 1 HOUR` }).where('key', '=', signinAccountKey(undefined, 'housekeeping-old')).execute();

  await consoleHousekeeping({ sessions: consoleSessionRepository(db), signins: consoleSigninRepository(db), config: t.config.console, log: createLogger({ level: 'silent' }), now: new Date() });
  assert.deepEqual([await sessionRows(live.session), await sessionRows(stale.session), await sessionRows(old.session)], [1, 0, 0]);
  const keys = (await db.selectFrom('console_signin_failure').select('key').execute()).map((r) => r.key);
  assert.ok(!keys.includes(signinAccountKey(undefined, 'housekeeping-old')));
  assert.ok(keys.includes(signinAccountKey(undefined, 'housekeeping-new')));
});

test('roles are checked on the server: a viewer gets 403 from a team lead route, a team lead 200', async () => {
  const viewer = await signIn('vera');
  const r1 = await app.inject({ method: 'GET', url: '/test/teamlead', cookies: { vigil_session: viewer.session }, headers: { accept: 'text/html' } });
  assert.equal(r1.statusCode, 403);
  const lead = await signIn('tess');
  const r2 = await app.inject({ method: 'GET', url: '/test/teamlead', cookies: { vigil_session: lead.session } });
  assert.equal(r2.statusCode, 200);
  assert.equal(r2.body, 'approved\n');
  const admin = await signIn('<b>x</b>&"');
  const r3 = await app.inject({ method: 'GET', url: '/test/teamlead', cookies: { vigil_session: admin.session } });
  assert.equal(r3.statusCode, 200, 'a higher role has every right of the lower ones');
});

test('names are escaped on the page', async () => {
  const admin = await signIn('<b>x</b>&"');
  const home = await app.inject({ method: 'GET', url: '/', cookies: { vigil_session: admin.session } });
  assert.ok(home.body.includes('&lt;b&gt;x&lt;/b&gt;&amp;&quot;'), home.body);
  assert.ok(!home.body.includes('<b>x</b>'));
});

test('security headers are on every answer: the page, the sign-in form, a refusal, a redirect and a 404', async () => {
  const { session } = await signIn('vera');
  const answers = [
    await app.inject({ method: 'GET', url: '/login' }),
    await app.inject({ method: 'GET', url: '/', cookies: { vigil_session: session } }),
    await app.inject({ method: 'GET', url: '/', headers: { accept: 'application/json' } }),
    await app.inject({ method: 'GET', url: '/', headers: { accept: 'text/html' } }),
    await app.inject({ method: 'GET', url: '/no/such/page', cookies: { vigil_session: session } }),
  ];
  assert.equal(answers[4]!.statusCode, 404);
  for (const r of answers) {
    const csp = String(r.headers['content-security-policy']);
    for (const d of ["default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self'", "object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'", "form-action 'self'"]) {
      assert.ok(csp.includes(d), `${r.statusCode}: ${d}`);
    }
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    assert.equal(r.headers['x-content-type-options'], 'nosniff');
    assert.equal(r.headers['referrer-policy'], 'no-referrer');
    assert.equal(r.headers['x-frame-options'], 'DENY');
    assert.equal(r.headers['cross-origin-opener-policy'], 'same-origin');
    assert.equal(r.headers['cache-control'], 'no-store');
  }
});

test('behind TLS (CONSOLE_SECURE_COOKIE, or an https CONSOLE_URL) the cookies are Secure and HSTS is sent', async () => {
  const tls = await buildConsoleApp({ db: t.database().db, config: { ...t.config.console, secureCookie: true }, logger: createLogger({ level: 'silent' }) });
  try {
    const form = await tls.inject({ method: 'GET', url: '/login', remoteAddress: address() });
    assert.equal(cookieOf(form, 'vigil_login')!.secure, true);
    assert.equal(form.headers['strict-transport-security'], 'max-age=31536000');
    const formToken = /name="_csrf" value="([^"]+)"/.exec(form.body)![1]!;
    const r = await tls.inject({
      method: 'POST', url: '/login', remoteAddress: address(), cookies: { vigil_login: cookieOf(form, 'vigil_login')!.value },
      payload: new URLSearchParams({ username: 'vera', password: PASSWORD, _csrf: formToken }).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    assert.equal(r.statusCode, 303);
    const c = cookieOf(r, 'vigil_session')!;
    assert.deepEqual([c.secure, c.httpOnly, c.sameSite], [true, true, 'Strict']);
  } finally {
    await tls.close();
  }
  assert.equal((await app.inject({ method: 'GET', url: '/login' })).headers['strict-transport-security'], undefined, 'not over plain HTTP');
});

test('after sign-in only a path on this console is followed: //evil.example, a scheme or a backslash go to /', async () => {
  for (const next of ['//evil.example', '//evil.example/path', 'https://evil.example/', '/\\evil.example', 'javascript:alert(1)', 'evil.example']) {
    const r = await postLogin('vera', PASSWORD, { next });
    assert.equal(r.statusCode, 303, next);
    assert.equal(r.headers.location, '/', next);
  }
  const encoded = await postLogin('vera', PASSWORD, { next: '/%0d%0aSet-Cookie:x' });
  assert.equal(encoded.headers.location, '/%0d%0aSet-Cookie:x', 'an encoded line break stays encoded: no header injection');
  const deep = await postLogin('vera', PASSWORD, { next: '/review/snapshot/42?x=1' });
  assert.equal(deep.headers.location, '/review/snapshot/42?x=1');
});

test('every sign-in, failed sign-in and sign-out is in the audit log, without password or token', async () => {
  const db = t.database().db;
  const failed = await postLogin('audited', 'the wrong secret words');
  assert.equal(failed.statusCode, 401);
  const unknown = await postLogin('correct horse battery staple', 'hunter2 hunter2');
  assert.equal(unknown.statusCode, 401);
  const { session, csrf } = await signIn('audited');
  await app.inject({ method: 'POST', url: '/logout', cookies: { vigil_session: session }, headers: { 'x-csrf-token': csrf } });

  const rows = await listAudit(db, { limit: 500 });
  const mine = rows.filter((r) => r.actor === 'audited');
  const actions = mine.map((r) => r.action).reverse();
  assert.deepEqual(actions, ['console.signin_failed', 'console.signin', 'console.signout']);
  assert.deepEqual((mine.find((r) => r.action === 'console.signin_failed')!.after as { reason: string }).reason, 'wrong_password');
  const anonymous = rows.find((r) => r.actor === '(unknown)' && r.action === 'console.signin_failed');
  assert.ok(anonymous, 'a failure for an unknown name is audited');
  const text = JSON.stringify(rows);
  for (const secret of [PASSWORD, 'the wrong secret words', 'hunter2', session, sha256Hex(session), csrf]) assert.ok(!text.includes(secret), `no ${secret.slice(0, 6)}… in the audit log`);
});

// Every route of the console, read from the app itself, against the roles the contract gives
// (CONTRACT.md "Console"): without a session a page redirects (303) and anything else answers
// 401; a role below the route's answers 403; a change without the CSRF token answers 403. A
// route added without a line in ROLES below fails the first test, so none is left unguarded.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { buildConsoleApp } from '../../services/console/app.ts';
import type { Role } from '../../shared/contract/roles.ts';
import { createLogger } from '../../shared/logger.ts';
import { addConsoleAccounts, consoleClient, type SignedIn } from '../helpers/console-client.ts';
import { createTestEnv, type TestEnv } from '../helpers/test-env.ts';

/** Each route's least role; `public` is reached without a session. */
const ROLES: Record<string, Role | 'public'> = {
  'GET /': 'viewer',
  'GET /assets/*': 'public',
  'GET /login': 'public',
  'POST /login': 'public',
  'POST /logout': 'viewer',
  'GET /review': 'viewer',
  'GET /review/snapshot/:id': 'viewer',
  'POST /review/snapshot/:id/propose': 'supervisor',
  'POST /review/snapshot/:id/not-this': 'supervisor',
  'POST /review/snapshot/:id/confirm': 'supervisor',
  'POST /review/snapshot/:id/dismiss': 'supervisor',
  'GET /review/enrolment/:id': 'viewer',
  'POST /review/enrolment/:id/confirm': 'supervisor',
  'POST /review/enrolment/:id/dismiss': 'supervisor',
  'POST /review/dismiss': 'supervisor',
  'POST /review/absence/:id/confirm': 'supervisor',
  'POST /review/absence/:id/dismiss': 'supervisor',
  'GET /images/snapshot/:id': 'viewer',
  'GET /images/snapshot/:id/face/:faceIndex': 'viewer',
  'GET /images/enrolment/:id': 'viewer',
  'GET /approvals': 'teamlead',
  'GET /approvals/proposal/:id': 'teamlead',
  'POST /approvals/proposal/:id/approve': 'teamlead',
  'POST /approvals/proposal/:id/reject': 'teamlead',
  'GET /approvals/duplicates': 'teamlead',
  'POST /approvals/duplicates/:id/accept': 'teamlead',
  'GET /employees': 'viewer',
  'GET /employees/:lanId': 'viewer',
  'POST /employees/:lanId/gallery/:trainImgId/remove': 'teamlead',
  'POST /employees/:lanId/gallery/:trainImgId/restore': 'teamlead',
  'POST /employees/:lanId/threshold': 'teamlead',
  'POST /employees/:lanId/delete': 'admin',
  'GET /exports': 'supervisor',
  'GET /exports/faces.zip': 'supervisor',
  'GET /audit': 'teamlead',
};
const LADDER: Role[] = ['viewer', 'supervisor', 'teamlead', 'admin'];

let t: TestEnv;
let app: FastifyInstance;
const as: Partial<Record<Role, SignedIn>> = {};

before(async () => {
  t = await createTestEnv('consoleroutes');
  await addConsoleAccounts(t.database().db, [['vic', 'viewer'], ['sue', 'supervisor'], ['tim', 'teamlead'], ['ann', 'admin']]);
  app = await buildConsoleApp({ db: t.database().db, config: t.config.console, logger: createLogger({ level: 'silent' }) });
  await app.ready();
  const client = consoleClient(app, '10.28.9.');
  for (const [name, role] of [['vic', 'viewer'], ['sue', 'supervisor'], ['tim', 'teamlead'], ['ann', 'admin']] as const) as[role] = await client.signIn(name);
});

after(async () => {
  await app?.close();
  await t?.cleanup();
});

/** `METHOD /path` of every route, read from Fastify's own route tree (HEAD, Fastify's shadow of GET, left out). */
function declaredRoutes(): string[] {
  const tree = app.printRoutes({ commonPrefix: false });
  const stack: string[] = [];
  const found: string[] = [];
  for (const line of tree.split('\n')) {
    const m = /^((?:│   |    )*)(?:├── |└── )(\S+) \(([A-Z, ]+)\)$/.exec(line);
    if (!m) continue;
    const depth = m[1]!.length / 4;
    stack.length = depth;
    // The tree shows a wildcard under its parent's prefix; the static plugin's is /assets/*.
    const segment = m[2] === '*' ? 'assets/*' : m[2]!;
    stack.push(segment);
    const path = stack.join('');
    for (const method of m[3]!.split(', ')) if (method !== 'HEAD') found.push(`${method} ${path}`);
  }
  return found.sort();
}

/** A concrete URL for a route: params filled with values that name nothing. */
const urlOf = (path: string) =>
  path.replace(':lanId', 'nobody').replace(':faceIndex', '0').replace(/:[A-Za-z]+/g, '999999').replace('*', 'console.css');

const request = (key: string, who: SignedIn | null, accept: string, csrf = true) => {
  const [method, path] = key.split(' ') as ['GET' | 'POST', string];
  return app.inject({
    method, url: urlOf(path), headers: { accept, ...(method === 'POST' && { 'content-type': 'application/x-www-form-urlencoded' }) },
    cookies: who ? { vigil_session: who.session } : {},
    ...(method === 'POST' && { payload: new URLSearchParams(csrf && who ? { _csrf: who.csrf } : {}).toString() }),
  });
};

test('every route the app declares has its role written down here, and no other', () => {
  assert.deepEqual(declaredRoutes(), Object.keys(ROLES).sort());
});

test('without a session every route but the public ones redirects a page request to /login (303) and answers 401 to anything else', async () => {
  for (const [key, role] of Object.entries(ROLES)) {
    if (role === 'public') continue;
    const page = await request(key, null, 'text/html');
    assert.equal(page.statusCode, 303, key);
    assert.match(String(page.headers.location), /^\/login/, key);
    const data = await request(key, null, 'application/json');
    assert.equal(data.statusCode, 401, key);
  }
});

test('a role below the route\'s answers 403; the route\'s role and those above get past the check', async () => {
  for (const [key, role] of Object.entries(ROLES)) {
    if (role === 'public' || key === 'POST /logout') continue;
    for (const held of LADDER) {
      const r = await request(key, as[held]!, 'text/html');
      const allowed = LADDER.indexOf(held) >= LADDER.indexOf(role);
      if (allowed) assert.ok(r.statusCode !== 403 && r.statusCode !== 401 && r.statusCode < 500, `${key} as ${held}: ${r.statusCode} ${r.body.slice(0, 200)}`);
      else {
        assert.equal(r.statusCode, 403, `${key} as ${held}`);
        assert.match(r.body, new RegExp(`needs the ${role} role`), key);
      }
    }
  }
});

test('every change refuses a post without the session\'s CSRF token (403), whatever the role', async () => {
  for (const [key, role] of Object.entries(ROLES)) {
    if (role === 'public' || !key.startsWith('POST ')) continue;
    const r = await request(key, as.admin!, 'text/html', false);
    assert.equal(r.statusCode, 403, key);
    assert.match(r.body, /CSRF/, key);
  }
});

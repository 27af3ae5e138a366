// compose/metabase-setup.mjs against a local server speaking the part of Metabase's API it
// uses (Metabase itself, a JVM application, does not run here): a fresh Metabase gets its
// admin and the vigil connection; a second run logs in and updates the connection instead
// of adding another; a wrong admin password fails saying what to do; no password is printed.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const SCRIPT = resolve(import.meta.dirname, '../../compose/metabase-setup.mjs');
const ADMIN_PASSWORD = `admin-${randomBytes(6).toString('hex')}`;
const DB_PASSWORD = `reader-${randomBytes(6).toString('hex')}`;

interface FakeMetabase {
  setupToken: string;
  admin?: { email: string; password: string };
  databases: { id: number; name: string; engine: string; details: Record<string, unknown> }[];
  sessions: Set<string>;
  calls: string[];
}

const mb: FakeMetabase = { setupToken: randomBytes(8).toString('hex'), databases: [], sessions: new Set(), calls: [] };
let server: Server;
let url: string;
let dir: string;

async function body(req: IncomingMessage): Promise<any> {
  let text = '';
  for await (const chunk of req) text += chunk;
  return text ? JSON.parse(text) : undefined;
}

before(async () => {
  server = createServer(async (req, res) => {
    const send = (status: number, json: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(json));
    const path = req.url ?? '';
    mb.calls.push(`${req.method} ${path}`);
    const input = await body(req);
    const authed = mb.sessions.has(String(req.headers['x-metabase-session']));
    if (req.method === 'GET' && path === '/api/session/properties') return send(200, { 'has-user-setup': !!mb.admin, 'setup-token': mb.admin ? null : mb.setupToken });
    if (req.method === 'POST' && path === '/api/setup') {
      if (mb.admin || input.token !== mb.setupToken) return send(403, { message: 'Token does not match the setup token.' });
      mb.admin = { email: input.user.email, password: input.user.password };
      const id = randomBytes(8).toString('hex');
      mb.sessions.add(id);
      return send(200, { id });
    }
    if (req.method === 'POST' && path === '/api/session') {
      if (input.username !== mb.admin?.email || input.password !== mb.admin?.password) return send(401, { errors: { password: 'did not match stored password' } });
      const id = randomBytes(8).toString('hex');
      mb.sessions.add(id);
      return send(200, { id });
    }
    if (!authed) return send(401, { message: 'Unauthenticated' });
    if (req.method === 'GET' && path === '/api/database') return send(200, { data: mb.databases, total: mb.databases.length });
    if (req.method === 'POST' && path === '/api/database') {
      const db = { id: mb.databases.length + 1, name: input.name, engine: input.engine, details: input.details };
      mb.databases.push(db);
      return send(200, db);
    }
    const put = /^\/api\/database\/(\d+)$/.exec(path);
    if (req.method === 'PUT' && put) {
      const db = mb.databases.find((d) => d.id === Number(put[1]));
      if (!db) return send(404, { message: 'Not found.' });
      db.details = input.details;
      return send(200, db);
    }
    send(404, { message: 'Not found.' });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  dir = await mkdtemp(join(tmpdir(), 'vigil-mbsetup-'));
  await writeFile(join(dir, 'admin'), `${ADMIN_PASSWORD}\n`);
  await writeFile(join(dir, 'wrong'), 'not-the-password\n');
  await writeFile(join(dir, 'db'), `${DB_PASSWORD}\n`);
});

after(async () => {
  server.close();
  await rm(dir, { recursive: true, force: true });
});

function run(adminFile = 'admin'): Promise<{ code: number; out: string }> {
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    METABASE_URL: url,
    METABASE_ADMIN_EMAIL: 'ops@example.org',
    METABASE_ADMIN_PASSWORD_FILE: join(dir, adminFile),
    METABASE_DB_PASSWORD_FILE: join(dir, 'db'),
  };
  return new Promise((resolve) => {
    execFile(process.execPath, [SCRIPT], { env }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, out: `${stdout}${stderr}` });
    });
  });
}

test('a fresh Metabase gets its admin and the vigil database, as the read-only user', async () => {
  const { code, out } = await run();
  assert.equal(code, 0, out);
  assert.deepEqual(mb.admin, { email: 'ops@example.org', password: ADMIN_PASSWORD });
  assert.equal(mb.databases.length, 1);
  const [db] = mb.databases;
  assert.equal(db!.engine, 'mysql');
  assert.equal(db!.name, 'Vigil');
  assert.deepEqual(db!.details, { host: 'mariadb', port: 3306, dbname: 'vigil', user: 'metabase', password: DB_PASSWORD, ssl: false });
  assert.match(out, /created admin ops@example\.org/);
  assert.match(out, /database "Vigil" \(id 1\) added: metabase@mariadb\/vigil/);
  assert.ok(!out.includes(ADMIN_PASSWORD) && !out.includes(DB_PASSWORD), 'a password was printed');
});

test('run again, it logs in and updates the connection instead of adding a second', async () => {
  mb.databases[0]!.details = { ...mb.databases[0]!.details, password: 'stale' };
  mb.calls.length = 0;
  const { code, out } = await run();
  assert.equal(code, 0, out);
  assert.ok(!mb.calls.includes('POST /api/setup'));
  assert.ok(mb.calls.includes('POST /api/session'));
  assert.equal(mb.databases.length, 1);
  assert.equal(mb.databases[0]!.details.password, DB_PASSWORD, 'the rotated password is applied');
  assert.match(out, /database "Vigil" \(id 1\) updated/);
});

test('an admin password that no longer matches fails, saying what to do, and prints no password', async () => {
  const { code, out } = await run('wrong');
  assert.equal(code, 1);
  assert.match(out, /already set up and ops@example\.org cannot log in .*add the database by hand/);
  assert.ok(!out.includes('not-the-password') && !out.includes(DB_PASSWORD));
});

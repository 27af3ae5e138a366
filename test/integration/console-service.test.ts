// `vigil run console` (CONTRACT.md "Console"): the console is a service like the others —
// start-up checks, /healthz and /readyz on METRICS_PORT, a clean SIGTERM — and it answers
// the sign-in page over real HTTP on CONSOLE_PORT.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveServices } from '../../services/registry.ts';
import { consoleUserRepository } from '../../db/repositories/console-user.repository.ts';
import { hashPassword } from '../../shared/accounts/password.ts';
import { BIN } from '../helpers/cli.ts';
import { runProcess } from '../helpers/process.ts';
import { waitFor } from '../helpers/runtime-harness.ts';
import { createTestEnv, type TestEnv } from '../helpers/test-env.ts';

let t: TestEnv;
let proc: ReturnType<typeof runProcess> | undefined;
before(async () => {
  t = await createTestEnv('consoleservice', { LOG_LEVEL: 'info', CONSOLE_PORT: '0' });
});
after(async () => {
  if (proc && proc.child.exitCode === null && proc.child.signalCode === null) proc.child.kill('SIGKILL');
  await t.cleanup();
});

test('`all` includes the console', () => {
  assert.ok(resolveServices(['all']).includes('console'));
});

test('vigil run console listens on CONSOLE_PORT, serves /login and a sign-in over HTTP, is ready on /readyz, and stops on SIGTERM', async () => {
  assert.ok(await consoleUserRepository(t.database().db).add({ name: 'ops', role: 'supervisor', passwordHash: await hashPassword('a long enough password'), by: 'test' }));
  const p = (proc = runProcess([BIN, 'run', 'console'], t.env, 60_000));
  const logged = (msg: string) => p.logs().find((l) => l.msg === msg);
  await waitFor('the console to listen', () => logged('console listening') !== undefined, 30_000, 50);
  const port = logged('console listening')!.consolePort as number;
  assert.ok(port > 0);
  const base = `http://127.0.0.1:${port}`;

  const form = await fetch(`${base}/login`, { headers: { accept: 'text/html' } });
  assert.equal(form.status, 200);
  assert.match(form.headers.get('content-security-policy') ?? '', /default-src 'self'/);
  const html = await form.text();
  assert.match(html, /<form method="post" action="\/login">/);
  const formToken = /name="_csrf" value="([^"]+)"/.exec(html)![1]!;
  const formCookie = /vigil_login=([^;]+)/.exec(form.headers.get('set-cookie') ?? '')![1]!;

  const signin = await fetch(`${base}/login`, {
    method: 'POST', redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: `vigil_login=${formCookie}` },
    body: new URLSearchParams({ username: 'ops', password: 'a long enough password', _csrf: formToken }),
  });
  assert.equal(signin.status, 303);
  const session = /vigil_session=([^;]+)/.exec(signin.headers.getSetCookie().join('\n'))![1]!;
  const home = await fetch(`${base}/`, { headers: { cookie: `vigil_session=${session}`, accept: 'text/html' }, redirect: 'manual' });
  assert.equal(home.status, 200);
  assert.match(await home.text(), /Signed in as <strong>ops<\/strong> \(supervisor\)/);
  const anonymous = await fetch(`${base}/`, { headers: { accept: 'text/html' }, redirect: 'manual' });
  assert.equal(anonymous.status, 303);

  const healthPort = logged('health and metrics server listening')!.port as number;
  await waitFor('/readyz to say ready', async () => (await fetch(`http://127.0.0.1:${healthPort}/readyz`)).status === 200, 20_000, 100);
  const metrics = await (await fetch(`http://127.0.0.1:${healthPort}/metrics`)).text();
  assert.match(metrics, /^vigil_console_signins_total\{outcome="success"\} 1$/m, 'its sign-ins on the shared registry, no account in the labels');

  p.child.kill('SIGTERM');
  const { code, signal } = await p.exited;
  assert.deepEqual({ code, signal }, { code: 0, signal: null });
  await assert.rejects(fetch(`${base}/login`), 'the console no longer listens');
});

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createTestEnv, type TestEnv } from '../helpers/test-env.ts';
import { runCli } from '../helpers/cli.ts';
import { consoleUserRepository } from '../../db/repositories/console-user.repository.ts';
import { listAudit } from '../../db/repositories/audit.repository.ts';
import { verifyPassword } from '../../shared/accounts/password.ts';

let t: TestEnv;

before(async () => {
  t = await createTestEnv('cliusers');
});
after(async () => {
  await t.cleanup();
});

const users = () => consoleUserRepository(t.database().db);

test('users add --password-stdin: the account exists with the role, the password verifies, the add is audited, and neither password nor hash is printed', async () => {
  const password = 'a long passphrase, twelve+';
  const r = await runCli(['users', 'add', 'ada', '--role', 'teamlead', '--password-stdin', '--by', 'root-admin', '--json'], t.env, { input: `${password}\n` });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { name: 'ada', role: 'teamlead' });
  const u = await users().findByName('ada');
  assert.ok(u);
  assert.deepEqual([u.role, u.disabled], ['teamlead', false]);
  assert.equal(await verifyPassword(password, u.passwordHash), true, 'the trailing newline is not part of the password');
  assert.equal(await verifyPassword(`${password}\n`, u.passwordHash), false);
  for (const text of [r.stdout, r.stderr]) {
    assert.ok(!text.includes(password) && !text.includes(u.passwordHash) && !text.includes(u.passwordHash.split('$')[3]!), 'no password, hash or salt printed');
  }
  const audit = await listAudit(t.database().db, { action: 'users.add', limit: 10 });
  assert.equal(audit.length, 1);
  assert.deepEqual([audit[0]!.actor, audit[0]!.subject, audit[0]!.after], ['root-admin', 'user:ada', { name: 'ada', role: 'teamlead' }]);
  assert.ok(!JSON.stringify(audit).includes(u.passwordHash), 'the audit row keeps no hash');
});

test('users add without a password generates one, prints it once (text and --json), and it verifies', async () => {
  const j = await runCli(['users', 'add', 'grace', '--role', 'viewer', '--json'], t.env);
  assert.equal(j.code, 0, j.stderr);
  const doc = JSON.parse(j.stdout) as { name: string; role: string; password: string };
  assert.deepEqual([doc.name, doc.role], ['grace', 'viewer']);
  assert.match(doc.password, /^[A-Za-z0-9_-]{20,}$/);
  assert.equal(j.stdout.split(doc.password).length - 1, 1, 'printed exactly once');
  assert.ok(!j.stderr.includes(doc.password));
  const grace = await users().findByName('grace');
  assert.equal(await verifyPassword(doc.password, grace!.passwordHash), true);
  assert.ok(!j.stdout.includes(grace!.passwordHash));

  const h = await runCli(['users', 'add', 'linus', '--role', 'admin'], t.env);
  assert.equal(h.code, 0, h.stderr);
  const shown = /password \(shown this once, stored only as a hash\): (\S+)\n/.exec(h.stdout);
  assert.ok(shown, h.stdout);
  assert.equal(await verifyPassword(shown[1]!, (await users().findByName('linus'))!.passwordHash), true);
  assert.equal((await listAudit(t.database().db, { actor: 'cli', action: 'users.add', limit: 10 })).length, 2, '--by defaults to cli');
});

test('a taken name (in any letter case, with or without accents) is refused with a code and nothing changes', async () => {
  const before = await users().findByName('ada');
  const auditBefore = await listAudit(t.database().db, { limit: 100 });
  for (const name of ['ada', 'ADA', 'ad\u00e1']) {
    const r = await runCli(['users', 'add', name, '--role', 'admin', '--password-stdin'], t.env, { input: 'another password entirely' });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /ACCOUNT_EXISTS/);
    assert.equal(r.stdout, '');
  }
  assert.deepEqual(await users().findByName('ada'), before, 'role and hash unchanged');
  assert.deepEqual(await listAudit(t.database().db, { limit: 100 }), auditBefore, 'nothing audited');
});

test('bad input is refused with a code before anything is written: short or empty stdin password, bad names, unknown role', async () => {
  const cases: [string[], string | undefined, RegExp][] = [
    [['users', 'add', 'shorty', '--role', 'viewer', '--password-stdin'], 'elevenchars\n', /PASSWORD_TOO_SHORT/],
    [['users', 'add', 'empty', '--role', 'viewer', '--password-stdin'], '\n', /PASSWORD_EMPTY/],
    [['users', 'add', 'nothing', '--role', 'viewer', '--password-stdin'], '', /PASSWORD_EMPTY/],
    [['users', 'add', ' padded', '--role', 'viewer'], undefined, /ACCOUNT_NAME_INVALID/],
    [['users', 'add', 'bell\u0007', '--role', 'viewer'], undefined, /ACCOUNT_NAME_INVALID/],
    [['users', 'add', 'x'.repeat(65), '--role', 'viewer'], undefined, /ACCOUNT_NAME_INVALID/],
    [['users', 'add', 'ok-name', '--role', 'viewer', '--by', ''], undefined, /ACCOUNT_NAME_INVALID/],
    [['users', 'add', 'root', '--role', 'superuser'], undefined, /expected one of viewer, supervisor, teamlead, admin/],
  ];
  for (const [args, input, expected] of cases) {
    const r = await runCli(args, t.env, input === undefined ? {} : { input });
    assert.notEqual(r.code, 0, args.join(' '));
    assert.match(r.stderr, expected, args.join(' '));
    if (input?.trim()) assert.ok(!r.stderr.includes(input.trim()), 'the refused password is not echoed');
  }
  const n = await t.database().db.selectFrom('console_user').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  assert.equal(Number(n.n), 3, 'still ada, grace and linus only');
});

test('users disable: the account is disabled, its sessions are deleted, the change is audited; an unknown name is refused', async () => {
  const db = t.database().db;
  const grace = (await users().findByName('grace'))!;
  const ada = (await users().findByName('ada'))!;
  const session = (userId: number) => ({ id: randomBytes(32).toString('hex'), user_id: userId, csrf_token: randomBytes(32).toString('hex') });
  await db.insertInto('console_session').values([session(grace.id), session(grace.id), session(ada.id)]).execute();

  const r = await runCli(['users', 'disable', 'grace', '--by', 'ada', '--json'], t.env);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { name: 'grace', disabled: true, sessionsEnded: 2 });
  assert.equal((await users().findByName('grace'))!.disabled, true);
  const left = await db.selectFrom('console_session').select('user_id').execute();
  assert.deepEqual(left.map((s) => Number(s.user_id)), [ada.id], "only ada's session is left");
  const audit = await listAudit(db, { action: 'users.disable', limit: 10 });
  assert.deepEqual(audit.map((a) => [a.actor, a.subject, a.before, a.after]), [['ada', 'user:grace', { disabled: false }, { disabled: true, sessionsEnded: 2 }]]);

  const text = await runCli(['users', 'disable', 'grace'], t.env);
  assert.equal(text.code, 0, text.stderr);
  assert.equal(text.stdout, 'disabled "grace"; 0 session(s) ended\n', 'disabling twice is harmless');

  const unknown = await runCli(['users', 'disable', 'nobody'], t.env);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /ACCOUNT_UNKNOWN/);
});

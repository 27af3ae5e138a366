import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestEnv, type TestEnv } from '../helpers/test-env.ts';
import { runCli } from '../helpers/cli.ts';

let t: TestEnv;
before(async () => {
  t = await createTestEnv('cli', {}, { migrate: false });
});
after(() => t.cleanup());

test('vigil --help lists every command', async () => {
  const r = await runCli(['--help'], {});
  assert.equal(r.code, 0);
  for (const cmd of ['migrate', 'run', 'publish', 'queues']) assert.match(r.stdout, new RegExp(`^  ${cmd}\\b`, 'm'));
});

test('vigil migrate creates the database and schema, and a second run is harmless', async () => {
  const first = await runCli(['migrate', '--json'], t.env);
  assert.equal(first.code, 0, first.stderr);
  const doc = JSON.parse(first.stdout);
  assert.equal(doc.database, t.databaseName);
  assert.equal(doc.createdDatabase, true);
  assert.ok(doc.applied.length >= 1);
  const second = await runCli(['migrate', '--json'], t.env);
  assert.equal(second.code, 0, second.stderr);
  assert.deepEqual(JSON.parse(second.stdout).applied, []);
  const text = await runCli(['migrate'], t.env);
  assert.match(text.stdout, /is up to date/);
});

test('vigil publish declares the topology and vigil queues reports depth and dead letters', async () => {
  const before = JSON.parse((await runCli(['queues', '--json'], t.env)).stdout);
  const q = before.queues.find((r: { queue: string }) => r.queue === `${t.prefix}facetraining`);
  assert.equal(q.declared, false);

  const pub = await runCli(['publish', 'facetraining', '7', '{"id":8}', '--json'], t.env);
  assert.equal(pub.code, 0, pub.stderr);
  assert.equal(JSON.parse(pub.stdout).published, 2);

  const r = await runCli(['queues', '--json'], t.env);
  assert.equal(r.code, 0, r.stderr);
  const queues = JSON.parse(r.stdout).queues as { queue: string; declared: boolean; messages: number; consumers: number; deadLetters: number }[];
  assert.deepEqual(queues.map((x) => x.queue), ['facetraining', 'facestreaming', 'transcoder', 'uploader', 'notifier'].map((n) => t.prefix + n));
  const ft = queues.find((x) => x.queue === `${t.prefix}facetraining`)!;
  assert.deepEqual({ declared: ft.declared, messages: ft.messages, consumers: ft.consumers, deadLetters: ft.deadLetters }, { declared: true, messages: 2, consumers: 0, deadLetters: 0 });

  const table = await runCli(['queues'], t.env);
  assert.match(table.stdout, new RegExp(`${t.prefix.replace(/\./g, '\\.')}facetraining\\s+2\\s+0\\s+0\\s+0`));
});

test('vigil publish refuses a body that is not the queue\'s format, and publishes nothing', async () => {
  const r = await runCli(['publish', 'facestreaming', '5', 'abc'], t.env);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /body 2 \("abc"\) is not a valid facestreaming message/);
  const unknown = await runCli(['publish', 'nowhere', '1'], t.env);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /unknown queue "nowhere"/);
  const queues = JSON.parse((await runCli(['queues', '--json'], t.env)).stdout).queues;
  assert.equal(queues.find((x: { queue: string }) => x.queue === `${t.prefix}facestreaming`).declared, false);
});

test('a bad variable stops a command at start with one line naming it (exit 78)', async () => {
  const r = await runCli(['queues'], { ...t.env, METRICS_PORT: 'ninety', FACESTREAMING_CONCURRENCY: '-1' });
  assert.equal(r.code, 78);
  assert.deepEqual(r.stderr.trim().split('\n').sort(), [
    'invalid configuration: FACESTREAMING_CONCURRENCY must be an integer from 1 to 256 (got "-1")',
    'invalid configuration: METRICS_PORT must be an integer from 0 to 65535 (got "ninety")',
  ]);
  assert.equal(r.stdout, '');
});

test('vigil run refuses an unknown service by name', async () => {
  const r = await runCli(['run', 'teleporter'], t.env);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /unknown service teleporter/);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect } from 'amqplib';
import { sql } from 'kysely';
import { openDatabase } from '../../db/connection.ts';
import { demoQueueNames } from '../demo/demo-env.ts';
import { AMQP_URL, MYSQL_SERVER } from '../helpers/test-env.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');

/** The queues of `names` that exist on the broker (a passive declare answers 404 for the others). */
async function existingQueues(names: string[]): Promise<string[]> {
  const conn = await connect(AMQP_URL);
  conn.on('error', () => undefined);
  const found: string[] = [];
  try {
    for (const name of names) {
      const ch = await conn.createChannel();
      ch.on('error', () => undefined);
      const exists = await ch.checkQueue(name).then(() => true, () => false);
      if (exists) {
        found.push(name);
        await ch.close();
      }
    }
  } finally {
    await conn.close().catch(() => undefined);
  }
  return found;
}

test('npm run demo: every expected outcome, a results table, nothing left behind', { timeout: 240_000 }, async () => {
  const child = spawn('npm', ['run', '--silent', 'demo'], { cwd: ROOT, env: { ...process.env, DATABASE_URL: `${MYSQL_SERVER}/vigil`, AMQP_URL }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const [code] = await once(child, 'exit');
  assert.equal(code, 0, `${out}\n${err}`);

  const ids = /database (vigil_demo_[0-9a-f]{8}), queue prefix (demo[0-9a-f]{8}\.), logs in (\S+)/.exec(out);
  assert.ok(ids, out);
  const [, databaseName, prefix, logPath] = ids;
  for (let n = 1; n <= 7; n++) assert.match(out, new RegExp(`^\\[${n}/7\\] .*(done in \\d+\\.\\d s|results)$`, 'm'));
  assert.match(out, /^\| step +\| in +\| out +\| seconds \|$/m);
  for (const row of ['1 migrate', '2 start', '3 enrol', '4 snapshots', '5 video']) assert.match(out, new RegExp(`^\\| ${row} `, 'm'));
  assert.match(out, /SUCCESS, SUCCESS, IMPERSONATION_SUSPECTED; impersonation alert mailed/);
  assert.match(out, /NO_FACES_FOUND, NO_FACES_FOUND, NO_FACES_FOUND; absence alert mailed/);
  assert.match(out, /video_published mailed/);
  assert.match(out, /^OK: every expected outcome happened/m);

  const h = openDatabase(`${MYSQL_SERVER}/information_schema`, { poolSize: 1 });
  try {
    const left = await sql<{ name: string }>`SELECT SCHEMA_NAME AS name FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ${databaseName}`.execute(h.db);
    assert.deepEqual(left.rows, [], `database ${databaseName} dropped`);
  } finally {
    await h.close();
  }
  const names = demoQueueNames(prefix!);
  assert.ok(names.includes(`${prefix}facestreaming.dlq`) && names.some((n) => n.startsWith(`${prefix}transcoder.retry`)), names.join());
  assert.deepEqual(await existingQueues(names), [], 'every queue with the prefix deleted');
  assert.equal(existsSync(logPath!), false, 'the log file of a successful run removed');
});

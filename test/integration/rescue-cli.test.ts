// `vigil rescue` as an operator runs it: a dry run says what it would do, and with the
// scheduled rescue off (NOTIFIER_RESCUE_INTERVAL=0) a forced rescue still leaves the row a
// real back-off, so a scheduled rescue turned back on does not republish it at once.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { runCli } from '../helpers/cli.ts';
import { drainQueue } from '../helpers/runtime-harness.ts';
import { createTestEnv, type TestEnv } from '../helpers/test-env.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
let t: TestEnv;

before(async () => {
  t = await createTestEnv('rescuecli', { NOTIFIER_RESCUE_INTERVAL: '0', VIGIL_RESCUE_AGE: '10m' });
});
after(async () => {
  await t?.cleanup();
});

async function stuckSnapshot(lanId: string): Promise<number> {
  const db = t.database().db;
  return Number((await db.insertInto('stream_img').values({ lan_id: lanId, status: 'N', capture_time: new Date(Date.now() - HOUR), image: Buffer.from('x') }).executeTakeFirstOrThrow()).insertId);
}

const rescueRecord = (id: number) =>
  t.database().db.selectFrom('rescue_attempt').select(['attempts', 'last_at', 'next_at']).where('kind', '=', 'stream').where('row_id', '=', id).executeTakeFirst();

test('vigil rescue --dry-run: the forced line says what would be republished, and nothing is', async () => {
  const id = await stuckSnapshot('NA\\dry');
  const r = await runCli(['rescue', '--dry-run'], t.env);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^would republish \d+ train_img, 1 stream_img/);
  const forced = r.stdout.split('\n').find((l) => l.startsWith('forced:')) ?? '';
  assert.match(forced, /would be republished/, forced);
  assert.doesNotMatch(forced, /republished too|counts in each row's back-off/, `a dry run republishes nothing: ${forced}`);
  // Nothing published: no back-off record (a publish makes one), and no broker was needed.
  assert.equal(await rescueRecord(id), undefined, 'a dry run records no back-off');
  await t.database().db.deleteFrom('stream_img').where('id', '=', id).execute();
});

test('with the scheduled rescue off (NOTIFIER_RESCUE_INTERVAL=0), vigil rescue backs a row off by the default interval, 5 min, not by 0', async () => {
  const id = await stuckSnapshot('NA\\off');
  const r = await runCli(['rescue'], t.env);
  assert.equal(r.code, 0, r.stderr);
  assert.equal((await drainQueue(`${t.prefix}facestreaming`)).filter((m) => JSON.parse(m.body).id === id).length, 1);
  const record = await rescueRecord(id);
  assert.ok(record, 'the republish is recorded');
  const delayMs = record.next_at.getTime() - record.last_at.getTime();
  assert.ok(Math.abs(delayMs - 5 * MINUTE) <= 1000, `next rescue ${delayMs} ms after this one`);
  await t.database().db.deleteFrom('stream_img').where('id', '=', id).execute();
});

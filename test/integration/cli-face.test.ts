import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FaceEngine } from '../../shared/face/engine.ts';
import { calibratedConfidence } from '../../shared/face/calibration.ts';
import { createTestEnv, type TestEnv } from '../helpers/test-env.ts';
import { runCli } from '../helpers/cli.ts';
import { drainQueue } from '../helpers/runtime-harness.ts';
import { badImages, cropFace, nonFaceImages, samplePhoto } from '../helpers/face-images.ts';

let t: TestEnv;
const dir = mkdtempSync(join(tmpdir(), 'vigil-cli-face-'));
const file = (name: string, bytes: Buffer) => {
  const p = join(dir, name);
  writeFileSync(p, bytes);
  return p;
};
const files: Record<string, string> = {};

before(async () => {
  t = await createTestEnv('cliface');
  const { engine } = await FaceEngine.load('auto');
  const photo = samplePhoto(6);
  const faces = (await engine.analyze(photo)).faces.sort((a, b) => a.box.x - b.box.x);
  files.enrol = file('enrol.jpg', await cropFace(photo, faces[1]!.box, 0.5));
  files.same = file('same.jpg', await cropFace(photo, faces[1]!.box, 0, { size: 120 }));
  files.other = file('other.jpg', await cropFace(photo, faces[2]!.box, 0.5));
  files.group = file('group.jpg', photo);
  files.blank = file('blank.jpg', (await nonFaceImages()).blank!);
  files.corrupt = file('corrupt.jpg', (await badImages()).truncated!);
});
after(() => t.cleanup());

async function verify(enrol: string, probe: string) {
  const r = await runCli(['verify', enrol, probe, '--json'], { LOG_LEVEL: 'warn' }, { timeoutMs: 120_000 });
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as { result: string; distance: number | null; accuracy: number | null; faces: number | null };
}

test('vigil verify prints {"result","distance","accuracy","faces"} with no broker or database', async () => {
  const same = await verify(files.enrol!, files.same!);
  assert.equal(same.result, 'SUCCESS');
  assert.equal(same.faces, 1);
  assert.ok(same.distance! < 0.6);
  assert.equal(same.accuracy, calibratedConfidence(same.distance!));
  const other = await verify(files.enrol!, files.other!);
  assert.equal(other.result, 'UNKNOWN_PERSON');
  assert.ok(other.distance! > 0.6 && other.accuracy! < calibratedConfidence(0.6));
  assert.equal(other.accuracy, calibratedConfidence(other.distance!));
  assert.ok(other.accuracy! < same.accuracy!);
  const group = await verify(files.enrol!, files.group!);
  assert.deepEqual([group.result, group.faces], ['SUCCESS_MULTIPLE_FACES', 4]);
  assert.deepEqual(await verify(files.enrol!, files.blank!), { result: 'NO_FACES_FOUND', distance: null, accuracy: null, faces: 0 });
  assert.equal((await verify(files.enrol!, files.corrupt!)).result, 'INVALID_IMAGE');
  assert.equal((await verify(files.group!, files.same!)).result, 'TRAINING_IMAGE_FAILED');
});

test('vigil enroll inserts a train_img row and publishes its id', async () => {
  const r = await runCli(['enroll', 'NA\\ada', files.enrol!, '--json'], t.env);
  assert.equal(r.code, 0, r.stderr);
  const { id } = JSON.parse(r.stdout) as { id: number };
  const row = await t.database().db.selectFrom('train_img').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  assert.deepEqual([row.lan_id, row.status], ['NA\\ada', 'N']);
  assert.ok(row.image && row.image.length > 1000);
  const queued = await drainQueue(`${t.prefix}facetraining`);
  assert.deepEqual(queued.map((m) => JSON.parse(m.body)), [{ id }]);
  const missing = await runCli(['enroll', 'NA\\ada', join(dir, 'nope.jpg')], t.env);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /cannot read .*nope\.jpg: ENOENT/);
});

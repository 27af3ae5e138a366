import { test } from 'node:test';
import assert from 'node:assert/strict';
import { judgeImpersonation, type SnapshotTrace } from '../../shared/face/impersonation.ts';
import { judgeAbsence } from '../../shared/face/presence.ts';
import { buildAlert } from '../../services/facestreaming/alerts.ts';
import type { StreamResult } from '../../shared/contract/result-codes.ts';

const TOL = { window: 3, maxDistance: 0.06, maxLandmarkShift: 0.01 };
const points = (dx = 0) => Array.from({ length: 68 }, (_, i) => ({ x: 0.2 + (i % 10) * 0.05 + dx, y: 0.2 + Math.floor(i / 10) * 0.08 }));
const desc = (v: number) => Float32Array.from({ length: 128 }, (_, i) => (i === 0 ? v : 0.05));
const trace = (id: number, sha: string, d = 0, dx = 0): SnapshotTrace => ({ streamImgId: id, sha256: sha, descriptor: desc(d), landmarks: points(dx) });

test('byte-identical snapshots are suspected whatever the tolerances', () => {
  const v = judgeImpersonation(trace(3, 'aa', 0.5, 0.2), [trace(2, 'aa'), trace(1, 'aa')], { ...TOL, maxDistance: 0, maxLandmarkShift: 0 });
  assert.equal(v.suspected, true);
  assert.deepEqual(v.pairs.map((p) => [p.streamImgId, p.sameBytes]), [[2, true], [1, true]]);
});

test('near-identical within both tolerances is suspected; beyond either one is not', () => {
  assert.equal(judgeImpersonation(trace(3, 'c', 0.03, 0.005), [trace(2, 'b', 0.01), trace(1, 'a')], TOL).suspected, true);
  // descriptor moved more than 0.06
  assert.equal(judgeImpersonation(trace(3, 'c', 0.08), [trace(2, 'b'), trace(1, 'a')], TOL).suspected, false);
  // landmarks moved more than 1 % of the box
  assert.equal(judgeImpersonation(trace(3, 'c', 0, 0.02), [trace(2, 'b'), trace(1, 'a')], TOL).suspected, false);
  // one live snapshot in the window is enough to clear it
  const v = judgeImpersonation(trace(3, 'c'), [trace(2, 'b'), trace(1, 'a', 0.3)], TOL);
  assert.equal(v.suspected, false);
  assert.deepEqual(v.pairs.map((p) => p.nearIdentical), [true, false]);
});

test('fewer earlier snapshots than the window needs: not suspected; only window - 1 are read', () => {
  assert.equal(judgeImpersonation(trace(2, 'a'), [trace(1, 'a')], TOL).suspected, false);
  assert.equal(judgeImpersonation(trace(2, 'a'), [], TOL).suspected, false);
  const v = judgeImpersonation(trace(9, 'a'), [trace(8, 'a'), trace(7, 'a'), trace(6, 'zz', 0.9)], TOL);
  assert.equal(v.suspected, true);
  assert.equal(v.pairs.length, 2);
  assert.equal(judgeImpersonation(trace(9, 'a'), [trace(8, 'a'), trace(7, 'a'), trace(6, 'zz', 0.9)], { ...TOL, window: 4 }).suspected, false);
});

test('an absence alert is raised once, when the run reaches the configured length', () => {
  const run: StreamResult[] = [];
  const alerts: (string | undefined)[] = [];
  for (const r of ['SUCCESS', 'NO_FACES_FOUND', 'NO_FACES_FOUND', 'NO_FACES_FOUND', 'NO_FACES_FOUND', 'SUCCESS', 'NO_FACES_FOUND'] as StreamResult[]) {
    alerts.push(judgeAbsence(r, [...run].reverse(), 3).alert);
    run.push(r);
  }
  assert.deepEqual(alerts, [undefined, undefined, undefined, 'absence', undefined, undefined, undefined]);
});

test('a run with a stranger in it is an unknown_person alert; a success breaks the run', () => {
  assert.equal(judgeAbsence('NO_FACES_FOUND', ['UNKNOWN_PERSON', 'NO_FACES_FOUND'], 3).alert, 'unknown_person');
  assert.equal(judgeAbsence('UNKNOWN_MULTIPLE_FACES', ['UNKNOWN_PERSON', 'SUCCESS', 'UNKNOWN_PERSON'], 3).alert, undefined);
  assert.equal(judgeAbsence('UNKNOWN_MULTIPLE_FACES', ['UNKNOWN_PERSON', 'SUCCESS', 'UNKNOWN_PERSON'], 3).streak, 2);
  assert.equal(judgeAbsence('SUCCESS', ['UNKNOWN_PERSON', 'UNKNOWN_PERSON'], 3).streak, 0);
  assert.equal(judgeAbsence('IMPERSONATION_SUSPECTED', ['NO_FACES_FOUND', 'NO_FACES_FOUND'], 3).alert, undefined);
  assert.equal(judgeAbsence('NO_FACES_FOUND', [], 1).alert, 'absence');
});

test('an alert is a contract notification with a stable idempotency key; without a route it is unrouted', () => {
  const at = new Date('2026-11-21T08:00:00Z');
  const a = buildAlert('impersonation', { channel: 'webhook', to: ['https://hooks.example.org/x'] }, { lanId: 'NA\\ada', streamImgId: 42, captureTime: at });
  assert.equal(a.state, 'pending');
  assert.deepEqual(a.notification, {
    channel: 'webhook',
    to: ['https://hooks.example.org/x'],
    template: 'face_impersonation_suspected',
    data: { lanId: 'NA\\ada', streamImgId: 42, captureTime: '2026-11-21T08:00:00.000Z', kind: 'impersonation' },
    idempotencyKey: 'vigil:face-impersonation-42',
  });
  assert.equal(buildAlert('absence', { channel: 'email', to: [] }, { lanId: 'x', streamImgId: 1, captureTime: at }).state, 'unrouted');
});

// The review pages' pure helpers (issue 28): the face measures in words with units, the
// LOW_QUALITY reasons, and the queue's query string (kind, state) and the filters it carries.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { qualityLabels, reasonLabel } from '../../services/console/quality-labels.ts';
import { filterParams, parseQueueQuery } from '../../services/console/review-params.ts';

test('quality measures read as labels with units, pose as yaw/pitch/roll in degrees, never field names or JSON', () => {
  assert.deepEqual(qualityLabels({ sizePx: 123.6, score: 0.98765, brightness: 127.4, sharpness: 0.4213, pose: { yaw: 3.46, pitch: -10, roll: 0.04 } }), [
    { name: 'face size', value: '124 px' },
    { name: 'detection confidence', value: '0.988' },
    { name: 'brightness', value: '127 of 255' },
    { name: 'sharpness', value: '0.42' },
    { name: 'yaw', value: '3.5°' },
    { name: 'pitch', value: '-10.0°' },
    { name: 'roll', value: '0.0°' },
  ]);
  assert.deepEqual(qualityLabels({ yaw: 3.5 }), [{ name: 'yaw', value: '3.5°' }]);
  // A measure added later is shown, its name in words.
  assert.deepEqual(qualityLabels({ eyeDistancePx: 40, mask_state: 'none', glasses: true, extra: [1] }), [
    { name: 'eye distance px', value: '40.000' },
    { name: 'mask state', value: 'none' },
    { name: 'glasses', value: 'true' },
    { name: 'extra', value: '[1]' },
  ]);
  assert.deepEqual(qualityLabels(null), []);
  assert.deepEqual(qualityLabels({ sharpness: Number.NaN, pose: { yaw: 'x' } }), [{ name: 'sharpness', value: '—' }, { name: 'yaw', value: '—' }]);
});

test("a LOW_QUALITY reason is its own sentence, else the check and its bound in words", () => {
  assert.equal(reasonLabel({ check: 'brightness', value: 31, min: 40, message: 'face is too dark (mean 31 of 255)' }), 'face is too dark (mean 31 of 255)');
  assert.equal(reasonLabel({ check: 'roll', value: 40, max: 25 }), 'head leaning (40.00, at most 25)');
  assert.equal(reasonLabel({ check: 'face_size', value: 52, min: 80 }), 'face too small (52.00, at least 80)');
  assert.equal(reasonLabel({ check: 'new_check' }), 'new check');
  assert.equal(reasonLabel('blurred'), 'blurred');
  assert.equal(reasonLabel(7), 'unknown reason');
});

test('the queue query: kind and state checked, each kind its own results, the filters carried without defaults or cursor', () => {
  const q = parseQueueQuery({});
  assert.ok(!('error' in q));
  assert.deepEqual([q.kind, q.state], ['snapshots', 'open']);
  assert.deepEqual(parseQueueQuery({ kind: 'absences', result: 'UNKNOWN_PERSON' }), { error: 'result does not apply to absences.' });
  assert.match((parseQueueQuery({ kind: 'enrolments', result: 'UNKNOWN_PERSON' }) as { error: string }).error, /^result must be one of NO_FACES_FOUND, MULTIPLE_FACES, LOW_QUALITY, DUPLICATE_IDENTITY/);
  assert.match((parseQueueQuery({ kind: 'snapshots', result: 'LOW_QUALITY' }) as { error: string }).error, /^result must be one of UNKNOWN_PERSON/);
  assert.match((parseQueueQuery({ kind: ['a', 'b'] }) as { error: string }).error, /^kind must be one of snapshots, absences, enrolments/);
  assert.match((parseQueueQuery({ state: 'closed' }) as { error: string }).error, /^state must be one of open, decided, all/);
  const e = parseQueueQuery({ kind: 'enrolments', state: 'all', result: 'LOW_QUALITY', lan_id: 'a&b', before: '1.2' });
  assert.ok(!('error' in e));
  assert.equal(filterParams(e.form).toString(), 'kind=enrolments&state=all&result=LOW_QUALITY&lan_id=a%26b');
  const d = parseQueueQuery({ kind: 'snapshots', state: 'open' });
  assert.ok(!('error' in d));
  assert.equal(filterParams(d.form).toString(), '', 'the defaults are left out');
});

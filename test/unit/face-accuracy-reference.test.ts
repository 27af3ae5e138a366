import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BEFORE_ISSUE_25, worseThan } from '../bench/face-accuracy-reference.ts';

const row = (enrolled: string, tar: string, far: string) => ({ enrolled, tar, far });

test('a run reads worse than the reference only where a printed measure is worse', () => {
  const before = row('100.0%', '99.6%', '0.1%');
  assert.deepEqual(worseThan(before, row('100.0%', '99.6%', '0.1%')), []);
  assert.deepEqual(worseThan(before, row('100.0%', '100.0%', '0.0%')), []);
  assert.deepEqual(worseThan(before, row('100.0%', '99.3%', '0.1%')), ['TAR']);
  assert.deepEqual(worseThan(before, row('98.4%', '99.6%', '0.2%')), ['enrolment', 'FAR']);
});

test('where two people in a frame must be refused, more enrolments accepted is the worse way', () => {
  const before = row('4.9%', '96.3%', '0.3%');
  assert.deepEqual(worseThan(before, row('0.0%', '99.6%', '0.3%'), true), []);
  assert.deepEqual(worseThan(before, row('6.6%', '99.6%', '0.3%'), true), ['enrolment']);
});

test('the reference holds every kind of the bench table before issue 25, each measure a printed percentage', () => {
  assert.equal(Object.keys(BEFORE_ISSUE_25).length, 13);
  for (const [kind, r] of Object.entries(BEFORE_ISSUE_25)) {
    for (const v of [r.enrolled, r.tar, r.far]) assert.match(v, /^\d{1,3}\.\d%$/, kind);
  }
});

// The employee page's chart model (services/console/results-chart.ts): the window of UTC
// days, the grouping of results, the stacked bars' geometry, the axes and the table.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chartWindow, resultGroup, resultsChart, tickStep } from '../../services/console/results-chart.ts';

test('the window is `days` whole UTC days ending with the day of now, oldest first', () => {
  const w = chartWindow(new Date('2026-12-07T23:59:59.999Z'), 7);
  assert.equal(w.from.toISOString(), '2026-12-01T00:00:00.000Z');
  assert.equal(w.to.toISOString(), '2026-12-08T00:00:00.000Z');
  assert.deepEqual(w.days, ['2026-12-01', '2026-12-02', '2026-12-03', '2026-12-04', '2026-12-05', '2026-12-06', '2026-12-07']);
  // Across a month and a year's end, and a leap day.
  assert.deepEqual(chartWindow(new Date('2028-03-01T00:00:00Z'), 2).days, ['2028-02-29', '2028-03-01']);
  assert.equal(chartWindow(new Date('2027-01-01T05:00:00Z'), 365).days[0], '2026-01-02');
});

test('results fall into the five groups; anything else is other', () => {
  assert.deepEqual(
    ['SUCCESS', 'SUCCESS_MULTIPLE_FACES', 'UNKNOWN_PERSON', 'UNKNOWN_MULTIPLE_FACES', 'IMPERSONATION_SUSPECTED', 'NO_FACES_FOUND', 'INVALID_IMAGE', 'NO_TRAINING_IMAGE', 'TRAINING_IMAGE_FAILED', 'SOMETHING_NEW'].map(resultGroup),
    ['success', 'success', 'unknown', 'unknown', 'impersonation', 'no-face', 'other', 'other', 'other', 'other'],
  );
});

test('the count axis steps by 1, 2 or 5 × 10^k in at most four steps', () => {
  assert.deepEqual([0, 1, 4, 5, 8, 9, 20, 21, 99, 1234].map(tickStep), [1, 1, 1, 2, 2, 5, 5, 10, 50, 500]);
});

test('each day is one bar stacked bottom up by group, its height in proportion to the count, with a title and a table row', () => {
  const days = ['2026-12-05', '2026-12-06', '2026-12-07'];
  const c = resultsChart(
    [
      { day: '2026-12-05', result: 'SUCCESS', count: 6 },
      { day: '2026-12-05', result: 'SUCCESS_MULTIPLE_FACES', count: 2 },
      { day: '2026-12-05', result: 'UNKNOWN_PERSON', count: 1 },
      { day: '2026-12-05', result: 'IMPERSONATION_SUSPECTED', count: 1 },
      { day: '2026-12-07', result: 'NO_FACES_FOUND', count: 3 },
      { day: '2026-12-07', result: 'INVALID_IMAGE', count: 1 },
      { day: '2026-11-01', result: 'SUCCESS', count: 50 },
    ],
    days,
  );
  assert.equal(c.bars.length, 3);
  assert.deepEqual(c.bars.map((b) => b.total), [10, 0, 4]);
  assert.equal(c.total, 14, 'a day outside the window is left out');
  assert.deepEqual(c.rows.map((r) => [r.day, ...r.counts, r.total]), [
    ['2026-12-05', 8, 1, 1, 0, 0, 10],
    ['2026-12-06', 0, 0, 0, 0, 0, 0],
    ['2026-12-07', 0, 0, 0, 3, 1, 4],
  ]);
  assert.deepEqual(c.legend.map((l) => [l.group, l.total]), [['success', 8], ['unknown', 1], ['impersonation', 1], ['no-face', 3], ['other', 1]]);

  // The axis tops at 10 (step 5), so 10 snapshots fill the plot's height.
  assert.deepEqual(c.yTicks.map((t) => t.label), ['0', '5', '10']);
  assert.equal(c.yTicks[0]!.y, c.plot.bottom);
  assert.equal(c.yTicks.at(-1)!.y, c.plot.top);
  const [first, empty, last] = c.bars as [typeof c.bars[0], typeof c.bars[0], typeof c.bars[0]];
  assert.deepEqual(first.segments.map((s) => [s.group, s.count]), [['success', 8], ['unknown', 1], ['impersonation', 1]]);
  const plotHeight = c.plot.bottom - c.plot.top;
  assert.equal(first.segments[0]!.y + first.segments[0]!.height, c.plot.bottom, 'the first segment stands on the axis');
  assert.equal(first.segments.at(-1)!.y, c.plot.top, 'the tallest bar reaches the top');
  for (let i = 1; i < first.segments.length; i++) {
    const below = first.segments[i - 1]!;
    assert.ok(Math.abs(first.segments[i]!.y + first.segments[i]!.height - below.y) < 0.02, 'stacked without a gap');
  }
  assert.ok(Math.abs(first.segments[0]!.height - (8 / 10) * plotHeight) < 0.02);
  assert.deepEqual(empty.segments, []);
  assert.equal(empty.title, '2026-12-06: no snapshot judged');
  assert.equal(first.title, '2026-12-05: 10 snapshots (8 success, 1 unknown person, 1 impersonation suspected)');
  assert.equal(last.title, '2026-12-07: 4 snapshots (3 no face, 1 other)');
  assert.ok(first.x < empty.x && empty.x < last.x);
  assert.ok(first.x >= c.plot.left && last.x + last.width <= c.plot.right);
});

test('an empty window still has an axis from 0 to 1, and a long one labels about eight days, the last among them', () => {
  const { days } = chartWindow(new Date('2026-12-07T12:00:00Z'), 365);
  const c = resultsChart([], days);
  assert.equal(c.total, 0);
  assert.deepEqual(c.yTicks.map((t) => t.label), ['0', '1']);
  assert.ok(c.bars.every((b) => b.segments.length === 0 && b.width >= 1));
  assert.ok(c.xLabels.length >= 7 && c.xLabels.length <= 9, String(c.xLabels.length));
  assert.equal(c.xLabels.at(-1)!.label, '12-07');
  const week = resultsChart([], chartWindow(new Date('2026-12-07T12:00:00Z'), 7).days);
  assert.equal(week.xLabels.length, 7, 'a week labels every day');
});

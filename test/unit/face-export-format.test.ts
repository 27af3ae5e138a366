import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cropName, cropRegion, csvField, csvLine, CSV_HEADER } from '../../shared/gallery/face-export-format.ts';

test('CSV fields: formulas defused with a leading quote, commas, quotes and line breaks quoted, numbers and nulls as they are', () => {
  const cases: [string | number | null, string][] = [
    ['NA\\ada', 'NA\\ada'],
    ["=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"],
    ['+1', "'+1"],
    ['-2+3', "'-2+3"],
    ['@SUM(A1)', "'@SUM(A1)"],
    ['\t=1', "'\t=1"],
    ['=HYPERLINK("http://x","y")', `"'=HYPERLINK(""http://x"",""y"")"`],
    ['o"brien, pat', '"o""brien, pat"'],
    ['two\nlines', '"two\nlines"'],
    ['a=b', 'a=b'],
    [-3.5, '-3.5'],
    [0.875, '0.875'],
    [null, ''],
  ];
  for (const [value, expected] of cases) assert.equal(csvField(value), expected, JSON.stringify(value));
});

test('the crop is the box and a quarter of it each side, in whole pixels, clamped to the image', () => {
  assert.deepEqual(cropRegion({ x: 100, y: 80, width: 120, height: 160 }, 1000, 541), { left: 70, top: 40, width: 180, height: 240 });
  assert.deepEqual(cropRegion({ x: 10, y: 5, width: 80, height: 80 }, 1000, 541), { left: 0, top: 0, width: 110, height: 105 });
  assert.deepEqual(cropRegion({ x: 900, y: 400, width: 80, height: 100 }, 1000, 541), { left: 880, top: 375, width: 120, height: 150 });
  assert.deepEqual(cropRegion({ x: 10.4, y: 10.6, width: 20.2, height: 20.2 }, 100, 100), { left: 5, top: 5, width: 31, height: 31 });
  assert.equal(cropRegion({ x: 2000, y: 10, width: 50, height: 50 }, 1000, 541), undefined, 'a box outside the image has no crop');
});

test('a CSV line per face, and one without face fields for a snapshot without faces', () => {
  const s = { id: 42, lanId: 'NA\\ada', captureTime: new Date('2026-12-07T08:09:10Z'), result: 'SUCCESS' as const, distance: 0.41, accuracy: 0.93, faces: [] };
  const face = { index: 1, box: { x: 1, y: 2, width: 3, height: 4 }, score: 0.9, landmarks: null, quality: null, model: 'm' };
  assert.equal(CSV_HEADER, 'snapshot_id,face_index,lan_id,capture_time,box_x,box_y,box_width,box_height,score,result,distance,crop\r\n');
  assert.equal(csvLine(s, face, cropName(42, 1)), '42,1,NA\\ada,2026-12-07T08:09:10.000Z,1,2,3,4,0.9,SUCCESS,0.41,faces/42-1.jpg\r\n');
  assert.equal(csvLine({ ...s, result: 'NO_FACES_FOUND', distance: null }, null, null), '42,,NA\\ada,2026-12-07T08:09:10.000Z,,,,,,NO_FACES_FOUND,,\r\n');
});

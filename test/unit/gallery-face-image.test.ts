import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { imageOfFace } from '../../shared/gallery/face-image.ts';

const canvas = (width: number, height: number) => sharp({ create: { width, height, channels: 3, background: { r: 120, g: 90, b: 60 } } }).jpeg().toBuffer();

test('a snapshot with one face is enrolled as it is', async () => {
  const img = await canvas(64, 48);
  assert.equal(await imageOfFace(img, [{ faceIndex: 0, box: { x: 10, y: 10, width: 20, height: 20 } }], 0), img);
});

test('with several faces, only the chosen one with 0.6 of its box around it, cut at the image edges', async () => {
  const img = await canvas(400, 300);
  const faces = [
    { faceIndex: 0, box: { x: 20, y: 30, width: 50, height: 60 } },
    { faceIndex: 1, box: { x: 250, y: 100, width: 50, height: 50 } },
  ];
  const right = await sharp(await imageOfFace(img, faces, 1)).metadata();
  assert.deepEqual([right.width, right.height], [110, 110], '50 + 2 × 30');
  const left = await sharp(await imageOfFace(img, faces, 0)).metadata();
  // Left and top run into the edge: 20 + 50 + 30 = 100 wide, 30 + 60 + 36 = 126 high.
  assert.deepEqual([left.width, left.height], [100, 126]);
});

test('boxes are in the upright image: a photo stored sideways with an EXIF orientation is cut upright', async () => {
  // 300 wide, 200 high upright; stored as 200 × 300 with orientation 6 (turn 90° clockwise to view).
  const stored = await sharp({ create: { width: 200, height: 300, channels: 3, background: { r: 10, g: 200, b: 10 } } }).withMetadata({ orientation: 6 }).jpeg().toBuffer();
  const faces = [
    { faceIndex: 0, box: { x: 200, y: 20, width: 40, height: 40 } },
    { faceIndex: 1, box: { x: 10, y: 150, width: 20, height: 20 } },
  ];
  const cut = await sharp(await imageOfFace(stored, faces, 0)).metadata();
  // 176 … 264 upright; read in the stored 200-pixel width it would be cut at 200 (24 wide).
  assert.deepEqual([cut.width, cut.height], [88, 20 + 40 + 24]);
});

test('a face whose box was not kept, or that does not exist, is refused with a code', async () => {
  const img = await canvas(100, 100);
  const faces = [
    { faceIndex: 0, box: null },
    { faceIndex: 1, box: { x: 1, y: 1, width: 5, height: 5 } },
  ];
  await assert.rejects(imageOfFace(img, faces, 0), /FACE_BOX_UNKNOWN/);
  await assert.rejects(imageOfFace(img, faces, 7), /FACE_BOX_UNKNOWN/);
});

test("the console's overlay is sized like the upright image the browser shows, as the boxes are", async () => {
  const { imageSize } = await import('../../services/console/thumbnails.ts');
  const stored = await sharp({ create: { width: 200, height: 300, channels: 3, background: { r: 10, g: 200, b: 10 } } }).withMetadata({ orientation: 6 }).jpeg().toBuffer();
  assert.deepEqual(await imageSize(stored), { width: 300, height: 200 });
  assert.deepEqual(await imageSize(await canvas(64, 48)), { width: 64, height: 48 });
  assert.equal(await imageSize(Buffer.from('not an image')), undefined);
});

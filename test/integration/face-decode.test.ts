import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { decodeImage, InvalidImageError } from '../../shared/face/decode.ts';
import { FaceEngine } from '../../shared/face/engine.ts';
import { badImages, cropFace, nonFaceImages, samplePhoto, variants } from '../helpers/face-images.ts';

async function solid(width: number, height: number, format: 'jpeg' | 'png' | 'webp' | 'tiff'): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: { r: 200, g: 100, b: 50 } } })[format]().toBuffer();
}

test('JPEG, PNG, WebP and TIFF decode to upright 8-bit RGB', async () => {
  for (const format of ['jpeg', 'png', 'webp', 'tiff'] as const) {
    const img = await decodeImage(await solid(300, 200, format));
    assert.equal(img.format, format);
    assert.deepEqual([img.width, img.height, img.rgb.length], [300, 200, 300 * 200 * 3]);
  }
});

test('grayscale, 16-bit and alpha images come out as 8-bit RGB', async () => {
  const base = await solid(100, 80, 'png');
  for (const bytes of [await variants.grayscale(base), await variants.png16(base), await variants.withAlpha(base)]) {
    const img = await decodeImage(bytes);
    assert.equal(img.rgb.length, 100 * 80 * 3);
    assert.ok(img.rgb.every((v) => v >= 0 && v <= 255));
  }
  const gray = await decodeImage(await variants.grayscale(base));
  assert.equal(gray.rgb[0], gray.rgb[1]);
});

test('the EXIF orientation is applied', async () => {
  const stored = await variants.exifRotated(await solid(300, 200, 'jpeg'));
  assert.equal((await sharp(stored).metadata()).width, 200, 'stored sideways');
  const img = await decodeImage(stored);
  assert.deepEqual([img.width, img.height, img.originalWidth, img.originalHeight], [300, 200, 300, 200]);
});

test('large images are scaled down before inference; the original size is kept', async () => {
  const img = await decodeImage(await solid(4000, 3000, 'jpeg'), { maxSide: 1000 });
  assert.deepEqual([img.width, img.height, img.originalWidth, img.originalHeight], [1000, 750, 4000, 3000]);
});

test('a decompression bomb is refused before it is decoded', async () => {
  const big = await sharp({ create: { width: 5000, height: 5000, channels: 3, background: '#fff' } }).png({ compressionLevel: 9 }).toBuffer();
  assert.ok(big.length < 200_000, 'small on disk');
  await assert.rejects(
    decodeImage(big, { maxPixels: 10_000_000 }),
    (err: unknown) => err instanceof InvalidImageError && err.code === 'INVALID_IMAGE' && err.message === 'the image has 5000×5000 pixels, more than the 10000000 allowed (FACE_MAX_PIXELS)',
  );
});

test('an image of more bytes than allowed is refused before any decoding', async () => {
  const png = await sharp({ create: { width: 64, height: 64, channels: 3, background: '#888' } }).png().toBuffer();
  await assert.rejects(
    decodeImage(png, { maxBytes: 100 }),
    (err: unknown) => err instanceof InvalidImageError && err.message === `the image is ${png.length} bytes, more than the 100 allowed (FACE_MAX_IMAGE_BYTES)`,
  );
  assert.equal((await decodeImage(png, { maxBytes: png.length })).width, 64);
});

test('empty, truncated, random, text and unsupported bytes are INVALID_IMAGE, never a crash', async () => {
  for (const [name, bytes] of Object.entries(await badImages())) {
    await assert.rejects(decodeImage(bytes), (err: unknown) => {
      assert.ok(err instanceof InvalidImageError, `${name}: ${String(err)}`);
      assert.equal(err.permanent, true);
      return true;
    }, name);
  }
});

test('the engine finds the faces of a group photo and leaks no tensors, whatever it is given', async () => {
  const { engine } = await FaceEngine.load('auto');
  await engine.warmUp();
  const photo = samplePhoto(1);
  const first = await engine.analyze(photo);
  assert.equal(first.faces.length, 3);
  for (const f of first.faces) {
    assert.equal(f.descriptor.length, 128);
    assert.equal(f.landmarks.length, 68);
    assert.ok(f.box.width > 100 && f.box.x >= 0 && f.box.x + f.box.width <= first.width);
  }
  const baseline = first.numTensors;
  const inputs = [
    ...Object.values(await nonFaceImages()),
    ...Object.values(await badImages()),
    await cropFace(photo, first.faces[0]!.box, 0),
    photo,
  ];
  for (let round = 0; round < 3; round++) {
    for (const bytes of inputs) {
      const r = await engine.analyze(bytes).catch((err: unknown) => err as InvalidImageError);
      if (r instanceof Error) assert.equal(r.code, 'INVALID_IMAGE');
      else assert.equal(r.numTensors, baseline, 'tensor count stays flat');
    }
  }
});

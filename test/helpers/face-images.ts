import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import sharp from 'sharp';
import type { Box } from '../../shared/face/geometry.ts';

const require = createRequire(import.meta.url);
const DEMO = join(dirname(require.resolve('@vladmandic/face-api/package.json')), 'demo');

/** The six group photos that ship with face-api. */
export function samplePhoto(n: 1 | 2 | 3 | 4 | 5 | 6): Buffer {
  return readFileSync(join(DEMO, `sample${n}.jpg`));
}

/** A crop around a face box; `margin` is added on each side as a fraction of the box. */
export async function cropFace(photo: Buffer, box: Box, margin: number, opts: { size?: number; quality?: number } = {}): Promise<Buffer> {
  const meta = await sharp(photo).metadata();
  const left = Math.max(0, Math.round(box.x - box.width * margin));
  const top = Math.max(0, Math.round(box.y - box.height * margin));
  const right = Math.min(meta.width!, Math.round(box.x + box.width * (1 + margin)));
  const bottom = Math.min(meta.height!, Math.round(box.y + box.height * (1 + margin)));
  let img = sharp(photo).extract({ left, top, width: right - left, height: bottom - top });
  if (opts.size) img = img.resize({ width: opts.size, height: opts.size, fit: 'inside' });
  return img.jpeg({ quality: opts.quality ?? 92 }).toBuffer();
}

export const variants = {
  grayscale: (img: Buffer) => sharp(img).grayscale().jpeg().toBuffer(),
  /** Stored sideways with the EXIF tag that says how to turn it upright (as phones do). */
  exifRotated: (img: Buffer) => sharp(img).rotate(-90).withMetadata({ orientation: 6 }).jpeg().toBuffer(),
  shrunk: (img: Buffer, size = 120) => sharp(img).resize({ width: size, height: size, fit: 'inside' }).jpeg().toBuffer(),
  darkened: (img: Buffer, factor = 0.12) => sharp(img).linear(factor, 0).jpeg().toBuffer(),
  brightened: (img: Buffer) => sharp(img).linear(1.2, 150).jpeg().toBuffer(),
  blurred: (img: Buffer, sigma = 6) => sharp(img).blur(sigma).jpeg().toBuffer(),
  png16: (img: Buffer) => sharp(img).toColourspace('rgb16').png().toBuffer(),
  withAlpha: (img: Buffer) => sharp(img).ensureAlpha(0.9).png().toBuffer(),
  webp: (img: Buffer) => sharp(img).webp().toBuffer(),
  tiff: (img: Buffer) => sharp(img).tiff().toBuffer(),
};

/** Images without a face: a smooth gradient and coloured noise. */
export async function nonFaceImages(): Promise<Record<string, Buffer>> {
  const w = 400;
  const h = 300;
  const gradient = Buffer.alloc(w * h * 3);
  const noise = Buffer.alloc(w * h * 3);
  let seed = 12345;
  for (let i = 0; i < w * h; i++) {
    gradient[i * 3] = (i % w) * 255 / w;
    gradient[i * 3 + 1] = Math.floor(i / w) * 255 / h;
    gradient[i * 3 + 2] = 128;
    for (let c = 0; c < 3; c++) {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      noise[i * 3 + c] = seed & 0xff;
    }
  }
  const raw = { raw: { width: w, height: h, channels: 3 as const } };
  return {
    gradient: await sharp(gradient, raw).jpeg().toBuffer(),
    noise: await sharp(noise, raw).png().toBuffer(),
    blank: await sharp({ create: { width: 640, height: 480, channels: 3, background: { r: 235, g: 235, b: 235 } } }).jpeg().toBuffer(),
  };
}

/** Bytes that are not a usable image. */
export async function badImages(): Promise<Record<string, Buffer>> {
  const jpeg = await sharp({ create: { width: 200, height: 200, channels: 3, background: { r: 90, g: 60, b: 30 } } }).jpeg().toBuffer();
  return {
    empty: Buffer.alloc(0),
    truncated: jpeg.subarray(0, Math.floor(jpeg.length / 2)),
    random: Buffer.from(Array.from({ length: 5000 }, (_, i) => (i * 7919) % 256)),
    text: Buffer.from('this is not an image, it is a text file\n'),
    gif: await sharp({ create: { width: 20, height: 20, channels: 3, background: '#000' } }).gif().toBuffer(),
  };
}

/** The two faces of sample photo 6 the tests crop (second and fourth from the left), as the engine boxes them. */
export async function sampleSubjects(engine: { analyze(bytes: Uint8Array): Promise<{ faces: { box: Box }[] }> }): Promise<{ subject: Box; other: Box }> {
  const faces = (await engine.analyze(samplePhoto(6))).faces.sort((a, b) => a.box.x - b.box.x);
  return { subject: faces[1]!.box, other: faces[3]!.box };
}

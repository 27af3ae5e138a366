// Thumbnails per second for the console bench: `/images/snapshot/<id>?thumb=1` through the
// app (session, the row's bytes from MariaDB, sharp, the LRU) against the same sharp chain
// over the same bytes in a plain loop, each with one request at a time and with several.
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { THUMB_SIZE } from '../../services/console/thumbnails.ts';

export interface Run {
  /** Milliseconds per image, each request's or each resize's own. */
  perImage: number[];
  wallMs: number;
}

/** Runs `work` over the indexes 0…n-1, `inFlight` at a time, timing each. */
export async function timedPool(n: number, inFlight: number, work: (i: number) => Promise<void>): Promise<Run> {
  const perImage: number[] = [];
  let next = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: inFlight }, async () => {
    while (next < n) {
      const i = next++;
      const s = performance.now();
      await work(i);
      perImage.push(performance.now() - s);
    }
  }));
  return { perImage, wallMs: performance.now() - t0 };
}

/** What `thumbnailCache` does to a source image, written out as a plain loop would. */
export function plainThumbnail(bytes: Buffer): Promise<Buffer> {
  return sharp(bytes, { failOn: 'none' })
    .rotate()
    .resize(THUMB_SIZE, THUMB_SIZE, { fit: 'inside', withoutEnlargement: true })
    .jpeg({ quality: 80 })
    .toBuffer();
}

/** The baseline: every image resized once, `inFlight` at a time, in this process. */
export function sharpLoop(images: Buffer[], inFlight: number): Promise<Run> {
  return timedPool(images.length, inFlight, async (i) => {
    await plainThumbnail(images[i]!);
  });
}

/** Checks a thumbnail the app answered: a JPEG no larger than THUMB_SIZE a side. */
export async function checkThumbnail(bytes: Buffer): Promise<void> {
  const m = await sharp(bytes).metadata();
  assert.equal(m.format, 'jpeg');
  assert.ok(Math.max(m.width!, m.height!) <= THUMB_SIZE, `thumbnail ${m.width}x${m.height}`);
}

export const perSecond = (r: Run): number => (r.perImage.length * 1000) / r.wallMs;

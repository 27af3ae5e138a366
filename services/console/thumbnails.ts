import sharp from 'sharp';
import { MAX_PIXELS, uprightSize } from '../../shared/gallery/face-crop.ts';

/** The thumbnails' longest side, in pixels. */
export const THUMB_SIZE = 160;

/**
 * Thumbnails made once and kept in memory, bounded: the least recently used goes first
 * (a Map keeps its insertion order; a hit is moved to the end).
 */
export function thumbnailCache(max = 500) {
  const cache = new Map<string, Buffer>();
  return {
    /** `stillThere`: asked on a hit, so a thumbnail of an image deleted since is never served (and is dropped). */
    async get(key: string, source: () => Promise<Buffer | undefined>, stillThere: () => Promise<boolean>): Promise<Buffer | undefined> {
      const hit = cache.get(key);
      if (hit && !(await stillThere())) {
        cache.delete(key);
        return undefined;
      }
      if (hit) {
        cache.delete(key);
        cache.set(key, hit);
        return hit;
      }
      const bytes = await source();
      if (!bytes) return undefined;
      // Bytes that do not decode (a producer's garbage, judged INVALID_IMAGE) have no thumbnail: a 404, not a 500.
      const thumb = await sharp(bytes, { failOn: 'none', limitInputPixels: MAX_PIXELS })
        .rotate()
        .resize(THUMB_SIZE, THUMB_SIZE, { fit: 'inside', withoutEnlargement: true })
        .jpeg({ quality: 80 })
        .toBuffer()
        .catch(() => undefined);
      if (!thumb) return undefined;
      cache.set(key, thumb);
      while (cache.size > max) cache.delete(cache.keys().next().value!);
      return thumb;
    },
    get size(): number {
      return cache.size;
    },
  };
}
export type ThumbnailCache = ReturnType<typeof thumbnailCache>;

/**
 * The image's size as the browser shows it (upright, by its EXIF orientation), the pixels
 * the face boxes are in: the overlay's viewBox. Undefined when it cannot be read.
 */
export async function imageSize(bytes: Buffer): Promise<{ width: number; height: number } | undefined> {
  try {
    return uprightSize(await sharp(bytes, { failOn: 'none' }).metadata());
  } catch {
    return undefined;
  }
}

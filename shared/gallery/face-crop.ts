import sharp, { type Metadata } from 'sharp';
import type { FaceBox } from '../../db/repositories/face-export.repository.ts';
import { cropRegion } from './face-export-format.ts';

/** Refuse images with more pixels than this (decompression bombs), as the face engine does. */
export const MAX_PIXELS = 40_000_000;

/**
 * JPEG crops of a snapshot's faces, by face index: each box with its margin, cut from the
 * upright image (EXIF orientation applied: the engine's boxes are in upright pixels). A face
 * whose box lies outside the image gets no crop, and an image that does not decode gives
 * none at all: the export still lists those faces, without a crop.
 */
export async function cropFaces(image: Buffer, faces: readonly { index: number; box: FaceBox | null }[]): Promise<Map<number, Buffer>> {
  const crops = new Map<number, Buffer>();
  const upright = uprightSize(await sharp(image, { limitInputPixels: MAX_PIXELS }).metadata().catch(() => undefined));
  if (!upright) return crops;
  for (const f of faces) {
    const region = f.box && cropRegion(f.box, upright.width, upright.height);
    if (!region) continue;
    try {
      crops.set(f.index, await sharp(image, { limitInputPixels: MAX_PIXELS }).rotate().extract(region).jpeg({ quality: 90 }).toBuffer());
    } catch {
      // A truncated image can decode its header and fail in the pixels: no crop, as for an undecodable one.
    }
  }
  return crops;
}

/** The image's size once turned upright by its EXIF orientation: the pixels face boxes are given in. */
export function uprightSize(meta: Metadata | undefined): { width: number; height: number } | undefined {
  if (!meta?.width || !meta.height) return undefined;
  // Orientations 5-8 swap width and height.
  return (meta.orientation ?? 1) >= 5 ? { width: meta.height, height: meta.width } : { width: meta.width, height: meta.height };
}

import sharp, { type Metadata } from 'sharp';
import { PermanentError } from '../errors.ts';

export const ACCEPTED_FORMATS = ['jpeg', 'png', 'webp', 'tiff'] as const;

export interface DecodeOptions {
  /** Refuse images with more pixels than this (decompression bombs). @default 40_000_000 */
  maxPixels?: number;
  /** Refuse images of more bytes than this, before decoding. @default 20 MiB */
  maxBytes?: number;
  /** Downscale so the longer side is at most this before inference. @default 1280 */
  maxSide?: number;
}

export interface DecodedImage {
  /** Packed 8-bit RGB, upright (EXIF orientation applied), alpha flattened. */
  rgb: Uint8Array;
  width: number;
  height: number;
  /** Upright size before downscaling; face sizes are reported in these pixels. */
  originalWidth: number;
  originalHeight: number;
  format: (typeof ACCEPTED_FORMATS)[number];
}

export class InvalidImageError extends PermanentError {
  constructor(message: string, cause?: unknown) {
    super('INVALID_IMAGE', message, cause);
  }
}

/**
 * Bytes → upright 8-bit RGB, whatever came in: any of JPEG/PNG/WebP/TIFF, grayscale, 16-bit,
 * with alpha (flattened on mid-grey, which the detector treats as background), rotated by
 * its EXIF orientation. Empty, corrupt, truncated, unsupported or oversized input is an
 * `InvalidImageError`, never a crash.
 */
export async function decodeImage(bytes: Uint8Array, opts: DecodeOptions = {}): Promise<DecodedImage> {
  const maxPixels = opts.maxPixels ?? 40_000_000;
  const maxSide = opts.maxSide ?? 1280;
  const maxBytes = opts.maxBytes ?? 20 * 1024 * 1024;
  if (bytes.length === 0) throw new InvalidImageError('the image is empty');
  if (bytes.length > maxBytes) throw new InvalidImageError(`the image is ${bytes.length} bytes, more than the ${maxBytes} allowed (FACE_MAX_IMAGE_BYTES)`);

  let meta: Metadata;
  try {
    // failOn 'warning': a truncated JPEG is an error, not a half-grey picture.
    meta = await sharp(bytes, { limitInputPixels: maxPixels, failOn: 'warning' }).metadata();
  } catch (err) {
    // sharp checks the pixel limit on the header: say so, with the size the header claims.
    if (/pixel limit/i.test((err as Error).message)) throw new InvalidImageError(await pixelLimitMessage(bytes, maxPixels), err);
    throw new InvalidImageError('the bytes are not a readable image', err);
  }
  const format = meta.format as string | undefined;
  if (!format || !(ACCEPTED_FORMATS as readonly string[]).includes(format)) {
    throw new InvalidImageError(`unsupported image format ${format ?? '(unknown)'}; expected JPEG, PNG, WebP or TIFF`);
  }
  if (!meta.width || !meta.height) throw new InvalidImageError('the image has no size');
  if (meta.width * meta.height > maxPixels) throw new InvalidImageError(tooManyPixels(meta.width, meta.height, maxPixels));
  // Orientations 5-8 swap width and height.
  const swapped = (meta.orientation ?? 1) >= 5;
  const originalWidth = swapped ? meta.height : meta.width;
  const originalHeight = swapped ? meta.width : meta.height;

  try {
    const { data, info } = await sharp(bytes, { limitInputPixels: maxPixels, failOn: 'warning' })
      .rotate()
      .resize({ width: maxSide, height: maxSide, fit: 'inside', withoutEnlargement: true })
      .flatten({ background: { r: 128, g: 128, b: 128 } })
      .toColourspace('srgb')
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`decoded to ${info.channels} channels`);
    return {
      rgb: new Uint8Array(data.buffer, data.byteOffset, data.length),
      width: info.width,
      height: info.height,
      originalWidth,
      originalHeight,
      format: format as DecodedImage['format'],
    };
  } catch (err) {
    throw new InvalidImageError('the image could not be decoded (corrupt or truncated)', err);
  }
}

function tooManyPixels(width: number, height: number, maxPixels: number): string {
  return `the image has ${width}×${height} pixels, more than the ${maxPixels} allowed (FACE_MAX_PIXELS)`;
}

/** The header's own size claim, read without the limit (metadata decodes no pixels). */
async function pixelLimitMessage(bytes: Uint8Array, maxPixels: number): Promise<string> {
  const meta = await sharp(bytes, { limitInputPixels: false }).metadata().catch(() => undefined);
  return meta?.width && meta.height ? tooManyPixels(meta.width, meta.height, maxPixels) : `the image has more than the ${maxPixels} pixels allowed (FACE_MAX_PIXELS)`;
}

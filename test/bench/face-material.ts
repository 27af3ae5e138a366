// Derived test material for the face-accuracy benchmark: from one real photo and the face
// box the engine found on it, the kinds of picture the services actually receive (tight
// badge head shots, a face small in a video still, a harsher re-encode, a webcam frame).
// Deterministic: every random choice comes from a PRNG seeded with the image's index.
import sharp from 'sharp';
import type { Box } from '../../shared/face/geometry.ts';

export const MATERIAL_KINDS = ['tight', 'still-480', 'still-720', 'reencode', 'webcam'] as const;
export type MaterialKind = (typeof MATERIAL_KINDS)[number];

/** Kinds that need the face box (the others only re-process the whole photo). */
export const NEEDS_BOX: ReadonlySet<MaterialKind> = new Set(['tight', 'still-480', 'still-720']);

/** mulberry32: a small, fast, seedable PRNG in [0, 1). */
export function prng(seed: number): () => number {
  let a = (seed * 0x9e3779b9 + 0x6d2b79f5) >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Upright {
  data: Buffer;
  width: number;
  height: number;
}

/** The photo turned upright (EXIF orientation applied), as the engine's box coordinates are. */
async function upright(photo: Buffer): Promise<Upright> {
  const { data, info } = await sharp(photo).rotate().removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

const rawOf = (u: Upright) => ({ raw: { width: u.width, height: u.height, channels: 3 as const } });

/**
 * A 150×150 grayscale PNG head shot: a square of 1.1× the box's larger side around the face
 * centre, kept inside the photo (shifted, or shrunk to the photo's shorter side), so hair
 * and chin are often cut by the border, as on ID-badge crops.
 */
export async function tightCrop(photo: Buffer, box: Box): Promise<Buffer> {
  const u = await upright(photo);
  const side = Math.min(Math.round(1.1 * Math.max(box.width, box.height)), u.width, u.height);
  const cx = box.x + box.width / 2;
  const cy = box.y + box.height / 2;
  const left = clamp(Math.round(cx - side / 2), 0, u.width - side);
  const top = clamp(Math.round(cy - side / 2), 0, u.height - side);
  return sharp(u.data, rawOf(u))
    .extract({ left, top, width: side, height: side })
    .resize(150, 150)
    .grayscale()
    .png()
    .toBuffer();
}

/**
 * A video still: the photo scaled so the face's height is 15–25% of a `width`×`height`
 * frame, composited off-centre onto a neutral grey or an out-of-focus background, JPEG q85.
 * The photo's own rectangle shows (a picture in the frame); parts outside the frame are cut.
 */
export async function videoStill(photo: Buffer, box: Box, index: number, width: number, height: number): Promise<Buffer> {
  const rand = prng(index * 7 + width);
  const u = await upright(photo);
  const fraction = 0.15 + 0.1 * rand();
  const scale = (fraction * height) / box.height;
  const pw = Math.max(1, Math.round(u.width * scale));
  const ph = Math.max(1, Math.round(u.height * scale));
  const scaled = await sharp(u.data, rawOf(u)).resize(pw, ph).raw().toBuffer();
  // Face centre left or right of the middle, a little above or below it.
  const side = index % 2 === 0 ? -1 : 1;
  const fx = width * (0.5 + side * (0.15 + 0.15 * rand()));
  const fy = height * (0.4 + 0.15 * rand());
  const left = Math.round(fx - (box.x + box.width / 2) * scale);
  const top = Math.round(fy - (box.y + box.height / 2) * scale);
  // The part of the scaled photo that lands inside the frame.
  const x0 = Math.max(0, left);
  const y0 = Math.max(0, top);
  const x1 = Math.min(width, left + pw);
  const y1 = Math.min(height, top + ph);
  const piece = await sharp(scaled, { raw: { width: pw, height: ph, channels: 3 } })
    .extract({ left: x0 - left, top: y0 - top, width: x1 - x0, height: y1 - y0 })
    .png()
    .toBuffer();
  const background =
    index % 3 === 0
      ? // An out-of-focus room in the photo's colours: a 16×9 thumbnail blown up and blurred,
        // so no face-like shape is left in it (a mildly blurred copy shows a giant face).
        await sharp(await sharp(u.data, rawOf(u)).resize(16, 9, { fit: 'cover' }).raw().toBuffer(), { raw: { width: 16, height: 9, channels: 3 } })
          .resize(width, height, { kernel: 'cubic' })
          .blur(height / 12)
          .raw()
          .toBuffer()
      : await sharp({ create: { width, height, channels: 3, background: { r: 110 + Math.round(30 * rand()), g: 112, b: 108 + Math.round(20 * rand()) } } })
          .raw()
          .toBuffer();
  return sharp(background, { raw: { width, height, channels: 3 } })
    .composite([{ input: piece, left: x0, top: y0 }])
    .jpeg({ quality: 85 })
    .toBuffer();
}

/** The photo re-encoded as JPEG q60 (upright, same size). */
export async function reencode(photo: Buffer): Promise<Buffer> {
  return sharp(photo).rotate().jpeg({ quality: 60 }).toBuffer();
}

/** A webcam frame: 640 px wide, optics blur (sigma 1), sensor noise (gaussian, sigma 4), JPEG q75. */
export async function webcamFrame(photo: Buffer, index: number): Promise<Buffer> {
  const { data, info } = await sharp(photo).rotate().removeAlpha().resize({ width: 640 }).blur(1).raw().toBuffer({ resolveWithObject: true });
  const rand = prng(index * 13 + 1);
  const sigma = 4;
  for (let i = 0; i < data.length; i += 2) {
    // Box–Muller: two normal samples per pair of uniforms.
    const r = Math.sqrt(-2 * Math.log(1 - rand())) * sigma;
    const t = 2 * Math.PI * rand();
    data[i] = clamp(Math.round(data[i]! + r * Math.cos(t)), 0, 255);
    if (i + 1 < data.length) data[i + 1] = clamp(Math.round(data[i + 1]! + r * Math.sin(t)), 0, 255);
  }
  return sharp(data, { raw: { width: info.width, height: info.height, channels: 3 } })
    .jpeg({ quality: 75 })
    .toBuffer();
}

/** One kind of material from a photo; `box` is required for the kinds in `NEEDS_BOX`. */
export async function deriveMaterial(kind: MaterialKind, photo: Buffer, box: Box | undefined, index: number): Promise<Buffer | undefined> {
  if (NEEDS_BOX.has(kind) && !box) return undefined;
  switch (kind) {
    case 'tight':
      return tightCrop(photo, box!);
    case 'still-480':
      return videoStill(photo, box!, index, 853, 480);
    case 'still-720':
      return videoStill(photo, box!, index, 1280, 720);
    case 'reencode':
      return reencode(photo);
    case 'webcam':
      return webcamFrame(photo, index);
  }
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}

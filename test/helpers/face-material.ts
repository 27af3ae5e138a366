// Derived face material for the face-accuracy benchmark and the face tests: from one real photo and the face
// box the engine found on it, the kinds of picture the services actually receive (tight
// badge head shots, crops that are all face, a face small in a video still, a rolled head,
// two people at one desk, a harsher re-encode, a webcam frame).
// Deterministic: every random choice comes from a PRNG seeded with the image's index.
import sharp from 'sharp';
import type { Box } from '../../shared/face/geometry.ts';
import { clamp, insideCrop, prng, rotatedPoint, tiltAngle, twoPeopleLayout, type Placed } from './face-material-geometry.ts';

export { prng } from './face-material-geometry.ts';

export const MATERIAL_KINDS = ['tight', 'badge', 'inside', 'still-480', 'still-720', 'small-480', 'tall', 'tilted', 'two-people', 'reencode', 'webcam'] as const;
export type MaterialKind = (typeof MATERIAL_KINDS)[number];

/** Kinds that need the face box (the others only re-process the whole photo). */
export const NEEDS_BOX: ReadonlySet<MaterialKind> = new Set(['tight', 'badge', 'inside', 'still-480', 'still-720', 'small-480', 'tall', 'tilted', 'two-people']);

/** A photo and the face the engine found on it. */
export interface PhotoWithFace {
  photo: Buffer;
  box: Box;
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
 * A 150×150 PNG head shot, grayscale unless `colour`: a square of `factor` × the box's
 * larger side around the face centre (shifted by `shift` of the side), kept inside the
 * photo (moved, or shrunk to the photo's shorter side), so hair and chin are often cut by
 * the border, as on ID-badge crops. SSD's box runs from the brows to the chin: 0.9 cuts the
 * chin and brow, 1.1 shows the face whole, 1.3 some hair.
 */
export async function tightCrop(photo: Buffer, box: Box, factor = 1.1, shift: { dx: number; dy: number } = { dx: 0, dy: 0 }, colour = false): Promise<Buffer> {
  const u = await upright(photo);
  const side = Math.min(Math.round(factor * Math.max(box.width, box.height)), u.width, u.height);
  const cx = box.x + box.width / 2 + shift.dx * side;
  const cy = box.y + box.height / 2 + shift.dy * side;
  const left = clamp(Math.round(cx - side / 2), 0, u.width - side);
  const top = clamp(Math.round(cy - side / 2), 0, u.height - side);
  const crop = sharp(u.data, rawOf(u)).extract({ left, top, width: side, height: side }).resize(150, 150);
  return (colour ? crop : crop.toColourspace('b-w')).png().toBuffer();
}

/** Tight head shots of every framing a badge system makes: 0.9–1.3× the face, a little off centre. */
export async function badgeCrop(photo: Buffer, box: Box, index: number): Promise<Buffer> {
  const rand = prng(index * 11 + 3);
  const factor = [0.9, 1.0, 1.1, 1.2, 1.3][index % 5]!;
  return tightCrop(photo, box, factor, { dx: (rand() - 0.5) * 0.1, dy: (rand() - 0.5) * 0.1 });
}

/** A head shot that is all face (0.6–0.9× the box, forehead and chin outside), see `insideCrop`. */
export async function insideShot(photo: Buffer, box: Box, index: number): Promise<Buffer> {
  const c = insideCrop(index);
  return tightCrop(photo, box, c.factor, c.shift, c.colour);
}

/** Where a face lands in a frame: its height as a share of the frame's, and its centre. */
export interface Placement {
  fraction: [number, number];
  /** Horizontal distance of the face centre from the middle, as a share of the width. */
  offCentre: [number, number];
  fy: [number, number];
}
const STILL: Placement = { fraction: [0.15, 0.25], offCentre: [0.15, 0.3], fy: [0.4, 0.55] };
/** Smaller than the stills the product is specified for: where the face-size bound bites. */
const SMALL: Placement = { ...STILL, fraction: [0.1, 0.15] };
/** A tall full-length portrait (970×2204 with a 264-pixel face, as a phone takes them). */
export const TALL: Placement = { fraction: [0.1, 0.14], offCentre: [0, 0.1], fy: [0.18, 0.3] };

/**
 * A video still: the photo scaled so the face's height is 15–25% of a `width`×`height`
 * frame, composited off-centre onto a neutral grey or an out-of-focus background, JPEG q85.
 * The photo's own rectangle shows (a picture in the frame); parts outside the frame are cut.
 */
export async function videoStill(photo: Buffer, box: Box, index: number, width: number, height: number, placement: Placement = STILL): Promise<Buffer> {
  return frameAround(await upright(photo), box, index, width, height, placement);
}

async function frameAround(u: Upright, box: Box, index: number, width: number, height: number, placement: Placement): Promise<Buffer> {
  const rand = prng(index * 7 + width);
  const fraction = placement.fraction[0] + (placement.fraction[1] - placement.fraction[0]) * rand();
  const scale = (fraction * height) / box.height;
  const pw = Math.max(1, Math.round(u.width * scale));
  const ph = Math.max(1, Math.round(u.height * scale));
  const scaled = await sharp(u.data, rawOf(u)).resize(pw, ph).raw().toBuffer();
  // Face centre left or right of the middle, a little above or below it.
  const side = index % 2 === 0 ? -1 : 1;
  const fx = width * (0.5 + side * (placement.offCentre[0] + (placement.offCentre[1] - placement.offCentre[0]) * rand()));
  const fy = height * (placement.fy[0] + (placement.fy[1] - placement.fy[0]) * rand());
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
  const background = await backdrop(u, index, width, height, rand);
  return sharp(background, { raw: { width, height, channels: 3 } })
    .composite([{ input: piece, left: x0, top: y0 }])
    .jpeg({ quality: 85 })
    .toBuffer();
}

/** A room behind the picture: the photo's colours out of focus (every third index), or a plain grey. */
async function backdrop(u: Upright, index: number, width: number, height: number, rand: () => number): Promise<Buffer> {
  if (index % 3 === 0) {
    // A 16×9 thumbnail blown up and blurred, so no face-like shape is left in it (a mildly
    // blurred copy shows a giant face).
    const thumb = await sharp(u.data, rawOf(u)).resize(16, 9, { fit: 'cover' }).raw().toBuffer();
    return sharp(thumb, { raw: { width: 16, height: 9, channels: 3 } })
      .resize(width, height, { kernel: 'cubic' })
      .blur(height / 12)
      .raw()
      .toBuffer();
  }
  return sharp({ create: { width, height, channels: 3, background: { r: 110 + Math.round(30 * rand()), g: 112, b: 108 + Math.round(20 * rand()) } } })
    .raw()
    .toBuffer();
}

/**
 * A 853×480 still (framed exactly as `still-480`, same draws) of the photo rolled about the
 * face centre by ±15° or ±30° (`tiltAngle`): only the roll differs from that kind.
 */
export async function tiltedStill(photo: Buffer, box: Box, index: number): Promise<Buffer> {
  const u = await upright(photo);
  const angle = tiltAngle(index);
  const { data, info } = await sharp(u.data, rawOf(u))
    .rotate(angle, { background: { r: 120, g: 120, b: 120 } })
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  const centre = rotatedPoint({ x: box.x + box.width / 2, y: box.y + box.height / 2 }, u.width, u.height, angle, info);
  // The face keeps its size; only where its centre lies moves.
  const turned = { x: centre.x - box.width / 2, y: centre.y - box.height / 2, width: box.width, height: box.height };
  return frameAround({ data, width: info.width, height: info.height }, turned, index, 853, 480, STILL);
}

/** Two people at one desk: `left` and `right` in one 854×480 frame (`twoPeopleLayout`), JPEG q85. */
export async function twoPeopleFrame(left: PhotoWithFace, right: PhotoWithFace, index: number): Promise<Buffer> {
  const width = 854;
  const height = 480;
  const [ul, ur] = await Promise.all([upright(left.photo), upright(right.photo)]);
  const places = twoPeopleLayout(index, width, height, { ...ul, box: left.box }, { ...ur, box: right.box });
  const pieces = await Promise.all([piece(ul, places[0]), piece(ur, places[1])]);
  const background = await backdrop(ul, index, width, height, prng(index * 29 + 3));
  return sharp(background, { raw: { width, height, channels: 3 } })
    .composite(pieces.flatMap((input, i) => (input ? [{ input, left: places[i]!.clip.x0, top: places[i]!.clip.y0 }] : [])))
    .jpeg({ quality: 85 })
    .toBuffer();
}

/** The visible part of a placed photo, or undefined when none of it is in the frame. */
async function piece(u: Upright, p: Placed): Promise<Buffer | undefined> {
  const { x0, y0, x1, y1 } = p.clip;
  if (x1 <= x0 || y1 <= y0) return undefined;
  const pw = Math.max(1, Math.round(u.width * p.scale));
  const ph = Math.max(1, Math.round(u.height * p.scale));
  return sharp(u.data, rawOf(u))
    .resize(pw, ph)
    .extract({ left: x0 - p.left, top: y0 - p.top, width: x1 - x0, height: y1 - y0 })
    .png()
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

/**
 * One kind of material from a photo; `box` is required for the kinds in `NEEDS_BOX`, and
 * `partner` (another person's photo) for `two-people`, which puts the photo on the left on
 * even indices (`twoPeopleOrder`).
 */
export async function deriveMaterial(kind: MaterialKind, photo: Buffer, box: Box | undefined, index: number, partner?: PhotoWithFace): Promise<Buffer | undefined> {
  if (NEEDS_BOX.has(kind) && !box) return undefined;
  switch (kind) {
    case 'inside':
      return insideShot(photo, box!, index);
    case 'tilted':
      return tiltedStill(photo, box!, index);
    case 'two-people': {
      if (!partner) return undefined;
      const self = { photo, box: box! };
      return index % 2 === 0 ? twoPeopleFrame(self, partner, index) : twoPeopleFrame(partner, self, index);
    }
    case 'tight':
      return tightCrop(photo, box!);
    case 'badge':
      return badgeCrop(photo, box!, index);
    case 'small-480':
      return videoStill(photo, box!, index, 853, 480, SMALL);
    case 'tall':
      return videoStill(photo, box!, index, 970, 2204, TALL);
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

/** What sets one image of a kind apart from the others of that kind, for kinds that vary it. */
export function materialVariant(kind: MaterialKind, index: number): string | undefined {
  if (kind === 'inside') {
    const c = insideCrop(index);
    return `${c.colour ? 'colour' : 'grayscale'}, ${c.centred ? 'centred' : 'off centre'}`;
  }
  if (kind === 'tilted') return `roll ${tiltAngle(index) > 0 ? '+' : ''}${tiltAngle(index)}°`;
  return undefined;
}

// Where derived face material puts things: crop squares inside the face, a photo rolled
// about the face centre, two people side by side in one frame. Pure (no image is touched),
// so the geometry is testable without photos; face-material.ts does the pixels.
import type { Box, Point } from '../../shared/face/geometry.ts';

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

export function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}

/** A crop that is all face: its size against the face box, its offset, its colours. */
export interface InsideCrop {
  /** The crop's side as a share of the box's larger side: 0.6–0.9, so brow and chin fall outside. */
  factor: number;
  /** The crop centre's offset from the box centre, as a share of the crop's side. */
  shift: { dx: number; dy: number };
  colour: boolean;
  centred: boolean;
}

/**
 * The `inside` crop of photo `index`: grayscale and colour, centred and off centre in turn
 * (index mod 4), the factor drawn. An off-centre crop moves by half to all of the room the
 * box leaves it, in a drawn direction, so it still lies inside the box.
 */
export function insideCrop(index: number): InsideCrop {
  const rand = prng(index * 19 + 7);
  const factor = 0.6 + 0.3 * rand();
  const centred = index % 2 === 0;
  const colour = index % 4 === 1 || index % 4 === 2;
  if (centred) return { factor, shift: { dx: 0, dy: 0 }, colour, centred };
  // Room on each side, in crop sides: (box − crop) / 2 / crop.
  const room = (1 - factor) / (2 * factor);
  const angle = 2 * Math.PI * rand();
  const r = room * (0.5 + 0.5 * rand());
  return { factor, shift: { dx: r * Math.cos(angle), dy: r * Math.sin(angle) }, colour, centred };
}

/** The head rolls of the `tilted` kind, photo `index` taking them in turn. */
export const TILT_ANGLES = [-30, -15, 15, 30] as const;

export function tiltAngle(index: number): number {
  return TILT_ANGLES[index % TILT_ANGLES.length]!;
}

/** The canvas a rotation by `angle` degrees needs to keep the whole picture (sharp's own size). */
export function rotatedSize(width: number, height: number, angle: number): { width: number; height: number } {
  const r = (angle * Math.PI) / 180;
  const c = Math.abs(Math.cos(r));
  const s = Math.abs(Math.sin(r));
  return { width: Math.round(width * c + height * s), height: Math.round(width * s + height * c) };
}

/**
 * Where point `p` of a `width`×`height` picture lands when the picture is turned `angle`
 * degrees clockwise about its centre onto an `out` canvas centred on the same point
 * (sharp's `rotate`, positive clockwise, y pointing down).
 */
export function rotatedPoint(p: Point, width: number, height: number, angle: number, out: { width: number; height: number }): Point {
  const r = (angle * Math.PI) / 180;
  const dx = p.x - width / 2;
  const dy = p.y - height / 2;
  return { x: out.width / 2 + dx * Math.cos(r) - dy * Math.sin(r), y: out.height / 2 + dx * Math.sin(r) + dy * Math.cos(r) };
}

/**
 * The other person in photo `index`'s `two-people` frame: a drawn photo of a different
 * identity among those usable (a face found on the original); undefined when there is none.
 */
export function partnerIndex(index: number, identities: readonly string[], usable: readonly boolean[]): number | undefined {
  const candidates = identities.flatMap((id, j) => (usable[j] && id !== identities[index] ? [j] : []));
  if (candidates.length === 0) return undefined;
  return candidates[Math.floor(prng(index * 23 + 11)() * candidates.length)]!;
}

/** A photo to be placed: its upright size and the face box found on it. */
export interface PhotoFace {
  width: number;
  height: number;
  box: Box;
}

/** One person's part of a frame: the photo scaled by `scale` with its top left at `left`/`top`. */
export interface Placed {
  scale: number;
  left: number;
  top: number;
  /** The part of the frame showing this photo (the rest of the scaled photo is cut). */
  clip: { x0: number; y0: number; x1: number; y1: number };
  /** The face box in frame pixels. */
  face: Box;
}

/** Face height as a share of the frame's, and the face centres' distance from the middle (share of the width). */
export const TWO_PEOPLE = { fraction: [0.1, 0.15], offCentre: [0.12, 0.18], fy: [0.38, 0.5] } as const;

/**
 * Two people side by side in a `width`×`height` frame: each photo scaled so its face is
 * 10–15% of the frame's height, the faces left and right of the middle at a desk
 * neighbour's distance (three to five face widths), each photo cut at the middle so
 * neither covers the other.
 */
export function twoPeopleLayout(index: number, width: number, height: number, left: PhotoFace, right: PhotoFace): [Placed, Placed] {
  const rand = prng(index * 17 + 5);
  const between = (r: readonly [number, number]) => r[0] + (r[1] - r[0]) * rand();
  const place = (p: PhotoFace, side: -1 | 1): Placed => {
    const scale = (between(TWO_PEOPLE.fraction) * height) / p.box.height;
    const fx = width * (0.5 + side * between(TWO_PEOPLE.offCentre));
    const fy = height * between(TWO_PEOPLE.fy);
    const x = Math.round(fx - (p.box.x + p.box.width / 2) * scale);
    const y = Math.round(fy - (p.box.y + p.box.height / 2) * scale);
    const half = side < 0 ? [0, Math.floor(width / 2)] : [Math.floor(width / 2), width];
    const clip = {
      x0: Math.max(half[0]!, x),
      y0: Math.max(0, y),
      x1: Math.min(half[1]!, x + Math.round(p.width * scale)),
      y1: Math.min(height, y + Math.round(p.height * scale)),
    };
    const face = { x: x + p.box.x * scale, y: y + p.box.y * scale, width: p.box.width * scale, height: p.box.height * scale };
    return { scale, left: x, top: y, clip, face };
  };
  return [place(left, -1), place(right, 1)];
}

/** Photo indices [left, right] of photo `index`'s two-people frame: the photo takes the left on even indices. */
export function twoPeopleOrder(index: number, partner: number): [number, number] {
  return index % 2 === 0 ? [index, partner] : [partner, index];
}

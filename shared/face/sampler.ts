/**
 * Every input the face networks see is sampled here, in plain code, from the decoded RGB:
 * the detector's 512-pixel canvases, the landmark net's 112-pixel crops and the descriptor
 * net's 150-pixel face chips. Each is an affine map from output pixels to image pixels, so a
 * canvas can be a crop, a scaled view, a margin around a tight head shot or a rotated face,
 * and the full-size image never becomes a tensor (its float copy, padding and resize cost
 * more than the landmark and descriptor nets together on a 2 MP portrait). Pure, no model.
 */

/** Packed 8-bit RGB, row by row. */
export interface RgbImage {
  rgb: Uint8Array;
  width: number;
  height: number;
}

/** Output pixel (u, v) reads image point (a·u + b·v + c, d·u + e·v + f); integer points are pixel centres. */
export interface Affine {
  a: number;
  b: number;
  c: number;
  d: number;
  e: number;
  f: number;
}

/** Integer pixel rectangle: columns x … x + width − 1, rows y … y + height − 1. */
export interface PixelRect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/**
 * What a sample outside the valid pixels reads:
 * - a constant grey level (`{ value }`): what face-api pads with (0) and a look's neutral grey;
 * - `edge`: the nearest valid pixel, so a cut face continues into a smeared surround;
 * - `mirror`: the valid pixels reflected at the edge, a surround with texture and light of the picture's own.
 */
export type Border = { value: number } | 'edge' | 'mirror';

export interface SampleOptions {
  border: Border;
  /** The pixels that may be read. @default the whole image */
  valid?: PixelRect;
  /**
   * Tap indices are first clamped to this rectangle (tf.image.resizeBilinear's rule at the far
   * edge of what it resizes), then tested against `valid`. @default none
   */
  clampTo?: PixelRect;
  /**
   * Samples per output pixel along each axis, averaged: a box filter against aliasing when
   * one output pixel covers several image pixels. @default 1 (plain bilinear)
   */
  supersample?: number;
}

/** Index of a tap along one axis, or −1 for "outside" (a constant border). */
function tapIndex(i: number, lo: number, n: number, border: Border): number {
  const r = i - lo;
  if (r >= 0 && r < n) return i;
  if (border === 'edge') return r < 0 ? lo : lo + n - 1;
  if (border === 'mirror') {
    if (n === 1) return lo;
    // Symmetric reflection (the edge pixel repeated once), periodic over 2n for far samples.
    const period = 2 * n;
    let m = r % period;
    if (m < 0) m += period;
    return lo + (m < n ? m : period - 1 - m);
  }
  return -1;
}

/** Where one axis's samples fall: both taps (−1: the fill) and the weight of the second. */
interface AxisTaps {
  i0: Int32Array;
  i1: Int32Array;
  w: Float32Array;
}

function axisTaps(positions: Float64Array, lo: number, n: number, clampLo: number, clampHi: number, border: Border): AxisTaps {
  const i0 = new Int32Array(positions.length);
  const i1 = new Int32Array(positions.length);
  const w = new Float32Array(positions.length);
  for (let k = 0; k < positions.length; k++) {
    const p = positions[k]!;
    const f = Math.floor(p);
    w[k] = p - f;
    i0[k] = tapIndex(Math.min(clampHi, Math.max(clampLo, f)), lo, n, border);
    i1[k] = tapIndex(Math.min(clampHi, Math.max(clampLo, f + 1)), lo, n, border);
  }
  return { i0, i1, w };
}

/**
 * Bilinear sampling of `src` through `map` into a `width` × `height` × 3 float image (0–255,
 * HWC, the layout of a TensorFlow.js image tensor).
 */
export function sampleAffine(src: RgbImage, width: number, height: number, map: Affine, opts: SampleOptions): Float32Array {
  const valid = opts.valid ?? { x: 0, y: 0, width: src.width, height: src.height };
  if (valid.x < 0 || valid.y < 0 || valid.x + valid.width > src.width || valid.y + valid.height > src.height || valid.width < 1 || valid.height < 1) {
    throw new RangeError('the valid rectangle must lie inside the image and hold a pixel');
  }
  const k = Math.max(1, Math.floor(opts.supersample ?? 1));
  return map.b === 0 && map.d === 0 ? sampleAxisAligned(src, width, height, map, opts, valid, k) : sampleRotated(src, width, height, map, opts, valid, k);
}

/** Sub-sample offsets within one output pixel (k per axis, centred). */
function offsets(k: number): number[] {
  return Array.from({ length: k }, (_, s) => (s + 0.5) / k - 0.5);
}

/** A scale and a shift per axis: the taps of every row and column are worked out once. */
function sampleAxisAligned(src: RgbImage, width: number, height: number, map: Affine, opts: SampleOptions, valid: PixelRect, k: number): Float32Array {
  const out = new Float32Array(width * height * 3);
  const border = opts.border;
  const fill = typeof border === 'object' ? border.value : 0;
  const clamp = opts.clampTo;
  const subs = offsets(k);
  const xs = new Float64Array(width * k);
  const ys = new Float64Array(height * k);
  for (let u = 0; u < width; u++) for (let s = 0; s < k; s++) xs[u * k + s] = map.a * (u + subs[s]!) + map.c;
  for (let v = 0; v < height; v++) for (let s = 0; s < k; s++) ys[v * k + s] = map.e * (v + subs[s]!) + map.f;
  const cx = axisTaps(xs, valid.x, valid.width, clamp ? clamp.x : -Infinity, clamp ? clamp.x + clamp.width - 1 : Infinity, border);
  const cy = axisTaps(ys, valid.y, valid.height, clamp ? clamp.y : -Infinity, clamp ? clamp.y + clamp.height - 1 : Infinity, border);
  const { rgb } = src;
  const stride = src.width * 3;
  const norm = 1 / (k * k);
  let o = 0;
  for (let v = 0; v < height; v++) {
    for (let u = 0; u < width; u++) {
      let r = 0;
      let g = 0;
      let b = 0;
      for (let sy = v * k, ey = sy + k; sy < ey; sy++) {
        const y0 = cy.i0[sy]!;
        const y1 = cy.i1[sy]!;
        const fy = cy.w[sy]!;
        const row0 = y0 * stride;
        const row1 = y1 * stride;
        for (let sx = u * k, ex = sx + k; sx < ex; sx++) {
          const x0 = cx.i0[sx]!;
          const x1 = cx.i1[sx]!;
          const fx = cx.w[sx]!;
          const w00 = (1 - fx) * (1 - fy);
          const w10 = fx * (1 - fy);
          const w01 = (1 - fx) * fy;
          const w11 = fx * fy;
          const p00 = y0 < 0 || x0 < 0 ? -1 : row0 + x0 * 3;
          const p10 = y0 < 0 || x1 < 0 ? -1 : row0 + x1 * 3;
          const p01 = y1 < 0 || x0 < 0 ? -1 : row1 + x0 * 3;
          const p11 = y1 < 0 || x1 < 0 ? -1 : row1 + x1 * 3;
          r += w00 * (p00 < 0 ? fill : rgb[p00]!) + w10 * (p10 < 0 ? fill : rgb[p10]!) + w01 * (p01 < 0 ? fill : rgb[p01]!) + w11 * (p11 < 0 ? fill : rgb[p11]!);
          g += w00 * (p00 < 0 ? fill : rgb[p00 + 1]!) + w10 * (p10 < 0 ? fill : rgb[p10 + 1]!) + w01 * (p01 < 0 ? fill : rgb[p01 + 1]!) + w11 * (p11 < 0 ? fill : rgb[p11 + 1]!);
          b += w00 * (p00 < 0 ? fill : rgb[p00 + 2]!) + w10 * (p10 < 0 ? fill : rgb[p10 + 2]!) + w01 * (p01 < 0 ? fill : rgb[p01 + 2]!) + w11 * (p11 < 0 ? fill : rgb[p11 + 2]!);
        }
      }
      out[o++] = r * norm;
      out[o++] = g * norm;
      out[o++] = b * norm;
    }
  }
  return out;
}

/** Any affine map (a rotated face, a rotated look): taps worked out per sample. */
function sampleRotated(src: RgbImage, width: number, height: number, map: Affine, opts: SampleOptions, valid: PixelRect, k: number): Float32Array {
  const out = new Float32Array(width * height * 3);
  const border = opts.border;
  const fill = typeof border === 'object' ? border.value : 0;
  const clamp = opts.clampTo;
  const cxLo = clamp ? clamp.x : -Infinity;
  const cxHi = clamp ? clamp.x + clamp.width - 1 : Infinity;
  const cyLo = clamp ? clamp.y : -Infinity;
  const cyHi = clamp ? clamp.y + clamp.height - 1 : Infinity;
  const { a, b, c, d, e, f } = map;
  const { rgb } = src;
  const stride = src.width * 3;
  const subs = offsets(k);
  const norm = 1 / (k * k);
  let o = 0;
  for (let v = 0; v < height; v++) {
    for (let u = 0; u < width; u++) {
      let r = 0;
      let g = 0;
      let bl = 0;
      for (const sv of subs) {
        for (const su of subs) {
          const x = a * (u + su) + b * (v + sv) + c;
          const y = d * (u + su) + e * (v + sv) + f;
          const fx0 = Math.floor(x);
          const fy0 = Math.floor(y);
          const fx = x - fx0;
          const fy = y - fy0;
          const x0 = tapIndex(Math.min(cxHi, Math.max(cxLo, fx0)), valid.x, valid.width, border);
          const x1 = tapIndex(Math.min(cxHi, Math.max(cxLo, fx0 + 1)), valid.x, valid.width, border);
          const y0 = tapIndex(Math.min(cyHi, Math.max(cyLo, fy0)), valid.y, valid.height, border);
          const y1 = tapIndex(Math.min(cyHi, Math.max(cyLo, fy0 + 1)), valid.y, valid.height, border);
          const w00 = (1 - fx) * (1 - fy);
          const w10 = fx * (1 - fy);
          const w01 = (1 - fx) * fy;
          const w11 = fx * fy;
          const p00 = y0 < 0 || x0 < 0 ? -1 : y0 * stride + x0 * 3;
          const p10 = y0 < 0 || x1 < 0 ? -1 : y0 * stride + x1 * 3;
          const p01 = y1 < 0 || x0 < 0 ? -1 : y1 * stride + x0 * 3;
          const p11 = y1 < 0 || x1 < 0 ? -1 : y1 * stride + x1 * 3;
          r += w00 * (p00 < 0 ? fill : rgb[p00]!) + w10 * (p10 < 0 ? fill : rgb[p10]!) + w01 * (p01 < 0 ? fill : rgb[p01]!) + w11 * (p11 < 0 ? fill : rgb[p11]!);
          g += w00 * (p00 < 0 ? fill : rgb[p00 + 1]!) + w10 * (p10 < 0 ? fill : rgb[p10 + 1]!) + w01 * (p01 < 0 ? fill : rgb[p01 + 1]!) + w11 * (p11 < 0 ? fill : rgb[p11 + 1]!);
          bl += w00 * (p00 < 0 ? fill : rgb[p00 + 2]!) + w10 * (p10 < 0 ? fill : rgb[p10 + 2]!) + w01 * (p01 < 0 ? fill : rgb[p01 + 2]!) + w11 * (p11 < 0 ? fill : rgb[p11 + 2]!);
        }
      }
      out[o++] = r * norm;
      out[o++] = g * norm;
      out[o++] = bl * norm;
    }
  }
  return out;
}

/** Output pixels per image pixel of the map's longer axis: above 1 the map shrinks the image. */
export function shrinkFactor(map: Affine): number {
  return Math.max(Math.hypot(map.a, map.d), Math.hypot(map.b, map.e));
}

/** The inverse map: image point → output pixel. */
export function invertAffine(m: Affine): Affine {
  const det = m.a * m.e - m.b * m.d;
  if (Math.abs(det) < 1e-12) throw new RangeError('the map is singular');
  const a = m.e / det;
  const b = -m.b / det;
  const d = -m.d / det;
  const e = m.a / det;
  return { a, b, c: -(a * m.c + b * m.f), d, e, f: -(d * m.c + e * m.f) };
}

export function applyAffine(m: Affine, p: { x: number; y: number }): { x: number; y: number } {
  return { x: m.a * p.x + m.b * p.y + m.c, y: m.d * p.x + m.e * p.y + m.f };
}

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

/**
 * Bilinear sampling of `src` through `map` into a `width` × `height` × 3 float image (0–255,
 * HWC, the layout of a TensorFlow.js image tensor).
 */
export function sampleAffine(src: RgbImage, width: number, height: number, map: Affine, opts: SampleOptions): Float32Array {
  const valid = opts.valid ?? { x: 0, y: 0, width: src.width, height: src.height };
  if (valid.x < 0 || valid.y < 0 || valid.x + valid.width > src.width || valid.y + valid.height > src.height || valid.width < 1 || valid.height < 1) {
    throw new RangeError('the valid rectangle must lie inside the image and hold a pixel');
  }
  const out = new Float32Array(width * height * 3);
  const border = opts.border;
  const clamp = opts.clampTo;
  const xLo = clamp ? clamp.x : -Infinity;
  const xHi = clamp ? clamp.x + clamp.width - 1 : Infinity;
  const yLo = clamp ? clamp.y : -Infinity;
  const yHi = clamp ? clamp.y + clamp.height - 1 : Infinity;
  const tapX = (i: number) => tapIndex(Math.min(xHi, Math.max(xLo, i)), valid.x, valid.width, border);
  const tapY = (i: number) => tapIndex(Math.min(yHi, Math.max(yLo, i)), valid.y, valid.height, border);
  const fill = typeof border === 'object' ? border.value : 0;
  const { rgb } = src;
  const stride = src.width * 3;
  // Output pixel o from the four taps (−1: the fill) and the weights of the second ones.
  const put = (o: number, x0: number, x1: number, y0: number, y1: number, fx: number, fy: number) => {
    const w00 = (1 - fx) * (1 - fy);
    const w10 = fx * (1 - fy);
    const w01 = (1 - fx) * fy;
    const w11 = fx * fy;
    const p00 = y0 < 0 || x0 < 0 ? -1 : y0 * stride + x0 * 3;
    const p10 = y0 < 0 || x1 < 0 ? -1 : y0 * stride + x1 * 3;
    const p01 = y1 < 0 || x0 < 0 ? -1 : y1 * stride + x0 * 3;
    const p11 = y1 < 0 || x1 < 0 ? -1 : y1 * stride + x1 * 3;
    for (let ch = 0; ch < 3; ch++) {
      out[o + ch] =
        w00 * (p00 < 0 ? fill : rgb[p00 + ch]!) + w10 * (p10 < 0 ? fill : rgb[p10 + ch]!) + w01 * (p01 < 0 ? fill : rgb[p01 + ch]!) + w11 * (p11 < 0 ? fill : rgb[p11 + ch]!);
    }
  };
  if (map.b === 0 && map.d === 0) {
    // A scale and a shift per axis: every column's and every row's taps are worked out once.
    const cx0 = new Int32Array(width);
    const cx1 = new Int32Array(width);
    const cfx = new Float64Array(width);
    for (let u = 0; u < width; u++) {
      const x = map.a * u + map.c;
      const f = Math.floor(x);
      cx0[u] = tapX(f);
      cx1[u] = tapX(f + 1);
      cfx[u] = x - f;
    }
    for (let v = 0, o = 0; v < height; v++) {
      const y = map.e * v + map.f;
      const f = Math.floor(y);
      const y0 = tapY(f);
      const y1 = tapY(f + 1);
      const fy = y - f;
      const row0 = y0 * stride;
      const row1 = y1 * stride;
      for (let u = 0; u < width; u++, o += 3) {
        const x0 = cx0[u]!;
        const x1 = cx1[u]!;
        const fx = cfx[u]!;
        if (y0 < 0 || y1 < 0 || x0 < 0 || x1 < 0) {
          put(o, x0, x1, y0, y1, fx, fy);
          continue;
        }
        // Inside the valid pixels (nearly every sample): the taps read straight from the image.
        const p00 = row0 + x0 * 3;
        const p10 = row0 + x1 * 3;
        const p01 = row1 + x0 * 3;
        const p11 = row1 + x1 * 3;
        const w00 = (1 - fx) * (1 - fy);
        const w10 = fx * (1 - fy);
        const w01 = (1 - fx) * fy;
        const w11 = fx * fy;
        out[o] = w00 * rgb[p00]! + w10 * rgb[p10]! + w01 * rgb[p01]! + w11 * rgb[p11]!;
        out[o + 1] = w00 * rgb[p00 + 1]! + w10 * rgb[p10 + 1]! + w01 * rgb[p01 + 1]! + w11 * rgb[p11 + 1]!;
        out[o + 2] = w00 * rgb[p00 + 2]! + w10 * rgb[p10 + 2]! + w01 * rgb[p01 + 2]! + w11 * rgb[p11 + 2]!;
      }
    }
    return out;
  }
  for (let v = 0, o = 0; v < height; v++) {
    for (let u = 0; u < width; u++, o += 3) {
      const x = map.a * u + map.b * v + map.c;
      const y = map.d * u + map.e * v + map.f;
      const fx = Math.floor(x);
      const fy = Math.floor(y);
      put(o, tapX(fx), tapX(fx + 1), tapY(fy), tapY(fy + 1), x - fx, y - fy);
    }
  }
  return out;
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

/**
 * The pixels of `rect` (inside the image) averaged over m × m blocks: an image m times
 * smaller to sample from where a map would shrink the image m times or more, so bilinear
 * samples do not skip pixels (dlib samples its face chips from an image pyramid for the
 * same reason). `map` carries a map on `src` over to the smaller image.
 */
export function shrinkBlocks(src: RgbImage, rect: PixelRect, m: number): { image: RgbImage; map(on: Affine): Affine } {
  const width = Math.max(1, Math.floor(rect.width / m));
  const height = Math.max(1, Math.floor(rect.height / m));
  const rgb = new Uint8Array(width * height * 3);
  const sums = new Float64Array(width * 3);
  const stride = src.width * 3;
  const n = m * m;
  for (let by = 0; by < height; by++) {
    sums.fill(0);
    for (let y = rect.y + by * m, ye = Math.min(src.height, y + m); y < ye; y++) {
      let i = y * stride + rect.x * 3;
      for (let bx = 0; bx < width; bx++) {
        let r = 0;
        let g = 0;
        let b = 0;
        for (let k = 0; k < m; k++, i += 3) {
          r += src.rgb[i]!;
          g += src.rgb[i + 1]!;
          b += src.rgb[i + 2]!;
        }
        sums[bx * 3]! += r;
        sums[bx * 3 + 1]! += g;
        sums[bx * 3 + 2]! += b;
      }
    }
    for (let j = 0; j < width * 3; j++) rgb[by * width * 3 + j] = Math.round(sums[j]! / n);
  }
  // Block i covers image pixels rect.x + m·i … + m − 1: its centre is rect.x + m·i + (m − 1)/2.
  const ox = rect.x + (m - 1) / 2;
  const oy = rect.y + (m - 1) / 2;
  return {
    image: { rgb, width, height },
    map: (on) => ({ a: on.a / m, b: on.b / m, c: (on.c - ox) / m, d: on.d / m, e: on.e / m, f: (on.f - oy) / m }),
  };
}

/**
 * `sampleAffine`, through `shrinkBlocks` first where the map shrinks the image twice or more
 * (by the whole number of times it does): the output's footprint in the image, averaged
 * down, then sampled. Past the image, `border` applies as it would have (edge or mirror:
 * the valid pixels are the whole image).
 */
export function sampleShrinking(src: RgbImage, width: number, height: number, map: Affine, border: Border): Float32Array {
  const m = Math.floor(Math.min(Math.hypot(map.a, map.d), Math.hypot(map.b, map.e)));
  if (m < 2) return sampleAffine(src, width, height, map, { border });
  const corners = [
    [0, 0],
    [width - 1, 0],
    [0, height - 1],
    [width - 1, height - 1],
  ].map(([u, v]) => applyAffine(map, { x: u!, y: v! }));
  const x0 = Math.max(0, Math.floor(Math.min(...corners.map((p) => p.x))) - m);
  const y0 = Math.max(0, Math.floor(Math.min(...corners.map((p) => p.y))) - m);
  const x1 = Math.min(src.width, Math.ceil(Math.max(...corners.map((p) => p.x))) + m + 1);
  const y1 = Math.min(src.height, Math.ceil(Math.max(...corners.map((p) => p.y))) + m + 1);
  // Too little of the footprint is in the image to average: sample as it is.
  if (x1 - x0 < 2 * m || y1 - y0 < 2 * m) return sampleAffine(src, width, height, map, { border });
  const small = shrinkBlocks(src, { x: x0, y: y0, width: x1 - x0, height: y1 - y0 }, m);
  return sampleAffine(small.image, width, height, small.map(map), { border });
}

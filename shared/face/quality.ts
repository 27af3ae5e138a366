import type { Box, Pose } from './geometry.ts';

/** Pure image measures for the enrolment quality gate. */

export interface GrayImage {
  data: Uint8Array;
  width: number;
  height: number;
}

/** ITU-R BT.601 luma of packed RGB; with `region`, only the pixels that region touches (the rest stay 0). */
export function toGray(rgb: Uint8Array, width: number, height: number, region?: Box): GrayImage {
  const data = new Uint8Array(width * height);
  const x0 = region ? Math.max(0, Math.floor(region.x)) : 0;
  const y0 = region ? Math.max(0, Math.floor(region.y)) : 0;
  const x1 = region ? Math.min(width, Math.ceil(region.x + region.width)) : width;
  const y1 = region ? Math.min(height, Math.ceil(region.y + region.height)) : height;
  for (let y = y0; y < y1; y++) {
    for (let i = y * width + x0, j = i * 3, end = y * width + x1; i < end; i++, j += 3) {
      data[i] = (rgb[j]! * 299 + rgb[j + 1]! * 587 + rgb[j + 2]! * 114) / 1000;
    }
  }
  return { data, width, height };
}

/** The box's pixels averaged down (or up) to size × size, so measures do not depend on resolution. */
export function resampleRegion(img: GrayImage, box: Box, size: number): Float32Array {
  const out = new Float32Array(size * size);
  const x0 = Math.max(0, Math.floor(box.x));
  const y0 = Math.max(0, Math.floor(box.y));
  const x1 = Math.min(img.width, Math.ceil(box.x + box.width));
  const y1 = Math.min(img.height, Math.ceil(box.y + box.height));
  const w = Math.max(1, x1 - x0);
  const h = Math.max(1, y1 - y0);
  for (let oy = 0; oy < size; oy++) {
    const sy0 = y0 + Math.floor((oy * h) / size);
    const sy1 = Math.max(sy0 + 1, y0 + Math.floor(((oy + 1) * h) / size));
    for (let ox = 0; ox < size; ox++) {
      const sx0 = x0 + Math.floor((ox * w) / size);
      const sx1 = Math.max(sx0 + 1, x0 + Math.floor(((ox + 1) * w) / size));
      let sum = 0;
      let n = 0;
      for (let y = sy0; y < sy1 && y < img.height; y++) {
        for (let x = sx0; x < sx1 && x < img.width; x++) {
          sum += img.data[y * img.width + x]!;
          n++;
        }
      }
      out[oy * size + ox] = n > 0 ? sum / n : 0;
    }
  }
  return out;
}

/** Mean luma (0-255) of the face. */
export function brightness(region: Float32Array): number {
  let sum = 0;
  for (const v of region) sum += v;
  return sum / region.length;
}

/**
 * Variance of the Laplacian (4-neighbour kernel) over the face resampled to a fixed size:
 * high for crisp edges, low for blur. The fixed size makes values comparable between a
 * 100-pixel badge photo and a 600-pixel portrait.
 */
export function sharpness(region: Float32Array, size: number): number {
  let sum = 0;
  let sumSq = 0;
  let n = 0;
  for (let y = 1; y < size - 1; y++) {
    for (let x = 1; x < size - 1; x++) {
      const i = y * size + x;
      const lap = region[i - size]! + region[i + size]! + region[i - 1]! + region[i + 1]! - 4 * region[i]!;
      sum += lap;
      sumSq += lap * lap;
      n++;
    }
  }
  const m = sum / n;
  return sumSq / n - m * m;
}

export const QUALITY_REGION_SIZE = 96;

export interface FaceQuality {
  /** Shorter side of the face box in the original image, pixels. */
  sizePx: number;
  score: number;
  brightness: number;
  sharpness: number;
  pose: Pose;
}

/** The quality gate's bounds; every one is configurable (FACE_* variables). */
export interface QualityBounds {
  minFaceSize: number;
  minScore: number;
  minBrightness: number;
  maxBrightness: number;
  minSharpness: number;
  maxYaw: number;
  maxPitch: number;
  maxRoll: number;
}

export interface QualityReason {
  check: 'face_size' | 'score' | 'brightness' | 'sharpness' | 'yaw' | 'pitch' | 'roll';
  value: number;
  min?: number;
  max?: number;
  message: string;
}

/** Every bound the face misses, each with its value; empty when the face passes. */
export function qualityReasons(q: FaceQuality, b: QualityBounds): QualityReason[] {
  const out: QualityReason[] = [];
  const r = (v: number) => Math.round(v * 100) / 100;
  if (q.sizePx < b.minFaceSize) out.push({ check: 'face_size', value: r(q.sizePx), min: b.minFaceSize, message: `face is ${Math.round(q.sizePx)} px; at least ${b.minFaceSize} px needed` });
  if (q.score < b.minScore) out.push({ check: 'score', value: r(q.score), min: b.minScore, message: `face detected with confidence ${r(q.score)}; at least ${b.minScore} needed` });
  if (q.brightness < b.minBrightness) out.push({ check: 'brightness', value: r(q.brightness), min: b.minBrightness, message: `face is too dark (mean ${Math.round(q.brightness)} of 255)` });
  if (q.brightness > b.maxBrightness) out.push({ check: 'brightness', value: r(q.brightness), max: b.maxBrightness, message: `face is overexposed (mean ${Math.round(q.brightness)} of 255)` });
  if (q.sharpness < b.minSharpness) out.push({ check: 'sharpness', value: r(q.sharpness), min: b.minSharpness, message: `face is blurred (sharpness ${r(q.sharpness)}, at least ${b.minSharpness} needed)` });
  if (Math.abs(q.pose.yaw) > b.maxYaw) out.push({ check: 'yaw', value: q.pose.yaw, max: b.maxYaw, message: `head turned ${Math.abs(Math.round(q.pose.yaw))}° sideways; at most ${b.maxYaw}°` });
  if (Math.abs(q.pose.pitch) > b.maxPitch) out.push({ check: 'pitch', value: q.pose.pitch, max: b.maxPitch, message: `head tilted ${Math.abs(Math.round(q.pose.pitch))}° up or down; at most ${b.maxPitch}°` });
  if (Math.abs(q.pose.roll) > b.maxRoll) out.push({ check: 'roll', value: q.pose.roll, max: b.maxRoll, message: `head leaning ${Math.abs(Math.round(q.pose.roll))}°; at most ${b.maxRoll}°` });
  return out;
}

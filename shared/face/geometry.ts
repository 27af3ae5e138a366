/** Pure geometry of faces: boxes, landmarks, head pose, descriptor distance. */

export interface Point {
  x: number;
  y: number;
}

export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Head pose in degrees; 0/0/0 is looking straight at the camera. Approximate, from 2D landmarks. */
export interface Pose {
  yaw: number;
  pitch: number;
  roll: number;
}

/** Euclidean distance between two descriptors (the dlib / face_recognition convention). */
export function descriptorDistance(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`descriptor lengths differ (${a.length} vs ${b.length})`);
  let sum = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i]! - b[i]!;
    sum += d * d;
  }
  return Math.sqrt(sum);
}

export function scaleBox(box: Box, s: number): Box {
  return { x: box.x * s, y: box.y * s, width: box.width * s, height: box.height * s };
}

export function scalePoints(points: Point[], s: number): Point[] {
  return points.map((p) => ({ x: p.x * s, y: p.y * s }));
}

export function meanPoint(points: Point[]): Point {
  const n = points.length;
  return { x: points.reduce((a, p) => a + p.x, 0) / n, y: points.reduce((a, p) => a + p.y, 0) / n };
}

/** The centres of the eyes of 68 iBUG landmarks: the image's left one (36–41), then the right (42–47). */
export function eyeCentres(landmarks: Point[]): { left: Point; right: Point } {
  return { left: meanPoint(landmarks.slice(36, 42)), right: meanPoint(landmarks.slice(42, 48)) };
}

const DEG = 180 / Math.PI;

/**
 * Head pose from the 68-point iBUG layout: 0-16 jaw, 27-35 nose (30 the tip), 36-41 and
 * 42-47 the eyes, 48-67 the mouth.
 * - roll: the tilt of the line through the eye centres.
 * - yaw: where the nose tip sits between the two sides of the jaw; a turned head puts it
 *   near one side. asin of the normalised offset gives degrees that read right near 0.
 * - pitch: where the nose tip sits between the eye line and the chin, against the ratio of
 *   a frontal face (about 0.4 on face-api's landmarks).
 */
export function estimatePose(landmarks: Point[]): Pose {
  if (landmarks.length !== 68) throw new Error(`expected 68 landmarks, got ${landmarks.length}`);
  const { left: leftEye, right: rightEye } = eyeCentres(landmarks);
  const nose = landmarks[30]!;
  const jawLeft = landmarks[0]!;
  const jawRight = landmarks[16]!;
  const chin = landmarks[8]!;

  const roll = Math.atan2(rightEye.y - leftEye.y, rightEye.x - leftEye.x) * DEG;

  // Distances measured along the eye axis, so a rolled head does not look turned.
  const axis = { x: Math.cos(roll / DEG), y: Math.sin(roll / DEG) };
  const along = (p: Point) => p.x * axis.x + p.y * axis.y;
  const dl = along(nose) - along(jawLeft);
  const dr = along(jawRight) - along(nose);
  const yaw = Math.asin(clamp((dl - dr) / Math.max(1e-6, dl + dr), -1, 1)) * DEG;

  const eyeMid = { x: (leftEye.x + rightEye.x) / 2, y: (leftEye.y + rightEye.y) / 2 };
  const across = (p: Point) => -p.x * axis.y + p.y * axis.x;
  const faceLen = across(chin) - across(eyeMid);
  const ratio = (across(nose) - across(eyeMid)) / Math.max(1e-6, faceLen);
  const pitch = Math.asin(clamp((ratio - 0.4) / 0.4, -1, 1)) * DEG;

  return { yaw: round1(yaw), pitch: round1(pitch), roll: round1(roll) };
}

/**
 * Landmarks relative to their face box, each coordinate in [0, 1]: what a printed photo
 * held to the camera keeps constant from one snapshot to the next.
 */
export function normalizeLandmarks(landmarks: Point[], box: Box): Point[] {
  const w = Math.max(1e-6, box.width);
  const h = Math.max(1e-6, box.height);
  return landmarks.map((p) => ({ x: round4((p.x - box.x) / w), y: round4((p.y - box.y) / h) }));
}

/** Mean distance between corresponding normalised landmarks of two faces. */
export function landmarkShift(a: Point[], b: Point[]): number {
  if (a.length !== b.length || a.length === 0) throw new Error('landmark sets differ in size');
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.hypot(a[i]!.x - b[i]!.x, a[i]!.y - b[i]!.y);
  return sum / a.length;
}

export function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}

const round1 = (v: number) => Math.round(v * 10) / 10;
const round4 = (v: number) => Math.round(v * 10_000) / 10_000;

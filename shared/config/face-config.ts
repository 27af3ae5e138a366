import { availableParallelism } from 'node:os';
import type { AlertRoute } from '../contract/messages.ts';
import { FACE_BACKENDS, type FaceBackendChoice } from '../face/backends.ts';
import type { ImpersonationTolerances } from '../face/impersonation.ts';
import type { QualityBounds } from '../face/quality.ts';
import type { EnvReader } from './env-reader.ts';

export interface FaceConfig {
  /** @default 'auto' */
  backend: FaceBackendChoice;
  /** @default 0.6 */
  matchThreshold: number;
  /** Inference threads per process. @default the number of cores */
  workers: number;
  /** `FACE_WORKER_RECYCLE_IDLE`: a thread idle this long after an image grew its heap is replaced; 0 never. @default 30s */
  recycleIdleMs: number;
  /** Detector confidence below which a face is not counted. @default 0.5 */
  minConfidence: number;
  /** Decompression-bomb guard. @default 40_000_000 */
  maxPixels: number;
  /** `FACE_MAX_IMAGE_BYTES`: larger images are refused before decoding, and by `vigil enroll`/`snapshot`. @default 20 MiB */
  maxImageBytes: number;
  /** Longer side images are scaled down to before inference. @default 1280 */
  maxSide: number;
  /** The enrolment quality gate. */
  quality: QualityBounds;
  /** When the last snapshots are too alike to be a live face. */
  impersonation: ImpersonationTolerances;
  /** A run of this many snapshots without the employee raises an alert. @default 5 */
  absenceStreak: number;
  /** `FACE_GALLERY_SIZE`: a snapshot is compared with the employee's newest this many active gallery faces. @default 10 */
  gallerySize: number;
  /**
   * `FACE_DUPLICATE_MARGIN`: an accepted enrolment whose face is closer than the match
   * threshold minus this to another employee's gallery face is `DUPLICATE_IDENTITY`. @default 0.25
   */
  duplicateMargin: number;
  /** `FACE_DUPLICATE_CHECK`: search the other employees' galleries at every enrolment. @default true */
  duplicateCheck: boolean;
  /** Where facestreaming's alerts go (`notifier`); no recipients keeps them in `face_alert` only. @default webhook, [] */
  alerts: AlertRoute;
}

export function readFaceConfig(r: EnvReader): FaceConfig {
  return {
    backend: r.oneOf('FACE_BACKEND', 'auto', FACE_BACKENDS),
    matchThreshold: r.number('FACE_MATCH_THRESHOLD', 0.6, 0.05, 2),
    workers: r.int('FACE_WORKERS', availableParallelism(), 1, 64),
    recycleIdleMs: r.duration('FACE_WORKER_RECYCLE_IDLE', 30_000, 0, 24 * 3600_000),
    minConfidence: r.number('FACE_MIN_CONFIDENCE', 0.5, 0.05, 0.99),
    maxPixels: r.int('FACE_MAX_PIXELS', 40_000_000, 10_000, 500_000_000),
    maxImageBytes: r.byteSize('FACE_MAX_IMAGE_BYTES', 20 * 1024 * 1024),
    maxSide: r.int('FACE_MAX_SIDE', 1280, 160, 8192),
    // Bounds measured on real photos (npm run bench -- face-accuracy): over 61 portraits of
    // 13 people and every derived kind, good faces read brightness 87-185, sharpness 149+,
    // |yaw| ≤ 22°, |pitch| ≤ 23°, |roll| ≤ 17°, and faces at 15% of a 480-line frame box 54 px
    // (faces of 37-63 px still verify at TAR 97.5%). Detector confidence is not photo
    // quality: a sharp badge crop scores 0.52, so the score bound is only the detector's floor.
    quality: {
      minFaceSize: r.int('FACE_MIN_FACE_SIZE', 40, 16, 4096),
      minScore: r.number('FACE_MIN_SCORE', 0.5, 0.05, 1),
      minBrightness: r.number('FACE_MIN_BRIGHTNESS', 50, 0, 255),
      maxBrightness: r.number('FACE_MAX_BRIGHTNESS', 225, 0, 255),
      minSharpness: r.number('FACE_MIN_SHARPNESS', 40, 0, 100_000),
      maxYaw: r.number('FACE_MAX_YAW', 40, 0, 90),
      maxPitch: r.number('FACE_MAX_PITCH', 30, 0, 90),
      maxRoll: r.number('FACE_MAX_ROLL', 35, 0, 180),
    },
    // Measured on the sample photos (descriptor distance / landmark shift): the same
    // picture re-encoded as JPEG reads 0.04-0.115 / 0.003-0.014; re-framed, greyed,
    // darkened or blurred 0.11-0.23 / 0.02-0.08. The landmarks separate them best.
    impersonation: {
      window: r.int('FACE_IMPERSONATION_WINDOW', 3, 2, 50),
      maxDistance: r.number('FACE_IMPERSONATION_MAX_DISTANCE', 0.12, 0, 2),
      maxLandmarkShift: r.number('FACE_IMPERSONATION_MAX_LANDMARK_SHIFT', 0.015, 0, 1),
    },
    absenceStreak: r.int('FACE_ABSENCE_STREAK', 5, 1, 100_000),
    gallerySize: r.int('FACE_GALLERY_SIZE', 10, 1, 100),
    // The check compares a new face with every gallery face of every other employee, so
    // what matters is the false-match rate per pair times the gallery's size. Different
    // people in LFW's 81,875,206 pairs (face_recognition's all-pairs table, fitted in
    // shared/face/calibration.json's crossCheck) come within 0.45 at 3.3e-5 a pair, 0.40 at
    // 3.9e-6 and 0.35 at 3.9e-7: against 10,000 employees × 10 faces, 0.35 flags about 4% of
    // new people for a team lead and 0.45 nearly every one. No different-person pair of the
    // accuracy bench (40,232 deepface pairs, 4,772 pairs of real webcam colleagues down to
    // 0.414) comes within 0.35. What it catches: the same picture enrolled again, re-encoded,
    // re-framed, greyed or blurred (0.04-0.23 on the sample photos); a new photo of the same
    // person only sometimes (18% of the deepface genuine pairs are within 0.35).
    duplicateMargin: r.number('FACE_DUPLICATE_MARGIN', 0.25, 0, 1),
    duplicateCheck: r.bool('FACE_DUPLICATE_CHECK', true),
    alerts: alertRoute(r),
  };
}

function alertRoute(r: EnvReader): AlertRoute {
  const channel = r.oneOf('FACE_ALERT_CHANNEL', 'webhook', ['email', 'webhook'] as const);
  const to = (r.optionalString('FACE_ALERT_TO') ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  const valid = channel === 'email' ? (v: string) => /^[^\s@]+@[^\s@]+$/.test(v) : (v: string) => /^https?:\/\/\S+$/.test(v);
  const bad = to.filter((v) => !valid(v));
  if (bad.length > 0) {
    const expected = channel === 'email' ? 'comma-separated email addresses' : 'comma-separated http(s) URLs';
    r.problems.push({ variable: 'FACE_ALERT_TO', expected: `${expected} (FACE_ALERT_CHANNEL is ${channel})`, got: bad.join(',') });
  }
  return { channel, to: bad.length > 0 ? [] : to };
}

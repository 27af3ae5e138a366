import { availableParallelism, tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { ConfigError, EnvReader, type Env } from './env-reader.ts';
import type { ImpersonationTolerances } from '../face/impersonation.ts';
import type { QualityBounds } from '../face/quality.ts';
import { DEAD_FRAME_DEFAULTS } from '../media/frame-select.ts';
import { QUEUE_NAMES, type ServiceName } from '../contract/queue-names.ts';

export const FACE_BACKENDS = ['auto', 'tensorflow', 'wasm', 'cpu'] as const;
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export const QUEUE_TYPES = ['quorum', 'classic'] as const;
export const X264_PRESETS = ['ultrafast', 'superfast', 'veryfast', 'faster', 'fast', 'medium', 'slow', 'slower', 'veryslow'] as const;

export interface BrokerConfig {
  /** @default 'amqp://guest:guest@127.0.0.1:5672' */
  url: string;
  /** Prefix of every queue name, so tests and tenants share one broker. @default '' */
  queuePrefix: string;
  /** @default 'quorum' */
  queueType: (typeof QUEUE_TYPES)[number];
  /** AMQP heartbeat; a dead peer is noticed after about twice this. @default 15 */
  heartbeatSeconds: number;
  /** Back-off before each retry; the last one repeats. @default [5s, 30s, 2m, 10m] */
  retryDelaysMs: number[];
  /** Attempts (first delivery included) before a transient failure is dead-lettered. @default 6 */
  maxAttempts: number;
  /**
   * Quorum queues only: deliveries of one message (crash loops included) before the broker
   * dead-letters it. Guards against a body that kills the process each time. @default 20
   */
  deliveryLimit: number;
  /** Longest wait for a publisher confirm. @default 10s */
  publishTimeoutMs: number;
  /** Reconnect back-off bounds. @default 500ms .. 30s */
  reconnectMinMs: number;
  reconnectMaxMs: number;
}

export interface DatabaseConfig {
  /** @default 'mysql://root@127.0.0.1:3306/vigil' */
  url: string;
  /** @default 10 */
  poolSize: number;
}

export interface S3Config {
  endpoint: string | undefined;
  /** @default 'us-east-1' */
  region: string;
  accessKeyId: string | undefined;
  secretAccessKey: string | undefined;
  /** Create a missing bucket instead of failing. @default true */
  createBuckets: boolean;
}

export interface MediaConfig {
  /** `FFMPEG_PATH`. @default 'ffmpeg' (from PATH) */
  ffmpegPath: string;
  /** `FFPROBE_PATH`. @default 'ffprobe' */
  ffprobePath: string;
  /** `VIGIL_WORK_DIR`: per-job work folders go under it (absolute). @default `<os.tmpdir()>/vigil` */
  workDir: string;
}

export interface TranscoderConfig {
  /** `TRANSCODER_MIN_FREE_DISK`: a job is refused (and retried) below this. 0 disables. @default 2 GiB */
  minFreeDiskBytes: number;
  /** `TRANSCODER_STALL_TIMEOUT`: ffmpeg is killed when its progress stops this long. @default 60s */
  stallTimeoutMs: number;
  /** `TRANSCODER_TIME_LIMIT`: hard limit of one ffmpeg run. @default 3h */
  timeLimitMs: number;
  encode: {
    /** `TRANSCODER_PRESET`: libx264 preset. @default 'veryfast' */
    preset: (typeof X264_PRESETS)[number];
    /** `TRANSCODER_CRF`: libx264 constant rate factor. @default 23 */
    crf: number;
  };
  /** Dead-frame thresholds; defaults from `DEAD_FRAME_DEFAULTS` (shared/media/frame-select.ts). */
  dead: {
    /** `TRANSCODER_BLACK_PIXEL_THRESHOLD`: luma below which a pixel is black. @default 32 */
    blackPixelThreshold: number;
    /** `TRANSCODER_BLACK_PERCENT`: percent of black pixels that makes a frame black. @default 98 */
    blackPercent: number;
    /** `TRANSCODER_FREEZE_NOISE_DB`: freezedetect's noise floor. @default -60 */
    freezeNoiseDb: number;
    /** `TRANSCODER_FREEZE_SECONDS`: stillness this long is frozen. @default 2 */
    freezeMinSeconds: number;
    /** `TRANSCODER_BLUR_THRESHOLD`: blurdetect value above which a frame is blurred (sharp footage reads 4-8). @default 12 */
    blurThreshold: number;
  };
  /** Job defaults (CONTRACT.md, "Video job"); a job's own fields win. */
  split: {
    /** `TRANSCODER_SPLIT_ABOVE_SECONDS`: longer videos are split. @default 240 */
    maxSeconds: number;
    /** `TRANSCODER_CLIP_SECONDS`. @default 120 */
    clipSeconds: number;
  };
  frames: {
    /** `TRANSCODER_FRAME_EVERY`: keep source frames 0, N, 2N, … @default 10 */
    every: number;
    /** `TRANSCODER_FRAME_WIDTH`. @default 1280 */
    width: number;
    /** `TRANSCODER_FRAME_HEIGHT`. @default 720 */
    height: number;
    /** `TRANSCODER_DROP_DEAD_FRAMES`. @default true */
    dropDead: boolean;
  };
  /** `TRANSCODER_DELETE_SOURCE`: delete the source once every output is stored. @default true */
  deleteSource: boolean;
  /** `TRANSCODER_FADE_SECONDS`: a trim's fade when the job gives none. @default 3 */
  fadeSeconds: number;
}

export interface Config {
  broker: BrokerConfig;
  database: DatabaseConfig;
  s3: S3Config;
  buckets: { source: string; video: string; frames: string; library: string };
  /** @default undefined (email disabled) */
  smtpUrl: string | undefined;
  /** Port of /metrics, /healthz and /readyz; 0 picks a free port. @default 9464 */
  metricsPort: number;
  /** Messages handled at once per service; prefetch equals it. */
  concurrency: Record<ServiceName, number>;
  media: MediaConfig;
  transcoder: TranscoderConfig;
  face: {
    /** @default 'auto' */
    backend: (typeof FACE_BACKENDS)[number];
    /** @default 0.6 */
    matchThreshold: number;
    /** Inference threads per process. @default the number of cores */
    workers: number;
    /** Detector confidence below which a face is not counted. @default 0.5 */
    minConfidence: number;
    /** Decompression-bomb guard. @default 40_000_000 */
    maxPixels: number;
    /** Longer side images are scaled down to before inference. @default 1280 */
    maxSide: number;
    /** The enrolment quality gate. */
    quality: QualityBounds;
    /** When the last snapshots are too alike to be a live face. */
    impersonation: ImpersonationTolerances;
    /** A run of this many snapshots without the employee raises an alert. @default 5 */
    absenceStreak: number;
    /** Where facestreaming's alerts go (`notifier`). */
    alerts: {
      /** @default 'webhook' */
      channel: 'email' | 'webhook';
      /** Email addresses or webhook URLs; empty keeps alerts in `face_alert` only. @default [] */
      to: string[];
    };
  };
  /** `vigil rescue` republishes rows left in N or P longer than this. @default 15 min */
  rescueAgeMs: number;
  /** @default 'info' */
  logLevel: (typeof LOG_LEVELS)[number];
  /** How long in-flight jobs get to finish after SIGTERM. @default 30s */
  shutdownTimeoutMs: number;
  /** Longest wait for a per-key lock before the job is retried. @default 60s */
  lockTimeoutMs: number;
}

/** Defaults: CPU-heavy services default to the core count's worth of work, I/O ones to more. */
const DEFAULT_CONCURRENCY: Record<ServiceName, number> = {
  facetraining: 2,
  facestreaming: 4,
  transcoder: 1,
  uploader: 2,
  notifier: 8,
};

/**
 * The only reader of the environment. Pure but for reading `X_FILE` secrets; throws a
 * `ConfigError` naming every bad variable.
 */
export function loadConfig(env: Env = process.env): Config {
  const r = new EnvReader(env);
  const concurrency = Object.fromEntries(
    QUEUE_NAMES.map((name) => [name, r.int(`${name.toUpperCase()}_CONCURRENCY`, DEFAULT_CONCURRENCY[name], 1, 256)]),
  ) as Record<ServiceName, number>;

  const config: Config = {
    broker: {
      url: r.url('AMQP_URL', 'amqp://guest:guest@127.0.0.1:5672', ['amqp', 'amqps'])!,
      queuePrefix: queuePrefix(r),
      queueType: r.oneOf('VIGIL_QUEUE_TYPE', 'quorum', QUEUE_TYPES),
      heartbeatSeconds: r.int('VIGIL_HEARTBEAT_SECONDS', 15, 1, 600),
      retryDelaysMs: r.durationList('VIGIL_RETRY_DELAYS', [5_000, 30_000, 120_000, 600_000], 100, 24 * 3600_000),
      maxAttempts: r.int('VIGIL_MAX_ATTEMPTS', 6, 1, 100),
      deliveryLimit: r.int('VIGIL_DELIVERY_LIMIT', 20, 2, 1000),
      publishTimeoutMs: r.duration('VIGIL_PUBLISH_TIMEOUT', 10_000, 100, 600_000),
      reconnectMinMs: r.duration('VIGIL_RECONNECT_MIN', 500, 10, 60_000),
      reconnectMaxMs: r.duration('VIGIL_RECONNECT_MAX', 30_000, 100, 600_000),
    },
    database: {
      url: r.url('DATABASE_URL', 'mysql://root@127.0.0.1:3306/vigil', ['mysql', 'mariadb'])!,
      poolSize: r.int('DATABASE_POOL_SIZE', 10, 1, 500),
    },
    s3: {
      endpoint: r.url('S3_ENDPOINT', undefined, ['http', 'https']),
      region: r.string('S3_REGION', 'us-east-1'),
      accessKeyId: r.optionalString('S3_ACCESS_KEY_ID', { secret: true }),
      secretAccessKey: r.optionalString('S3_SECRET_ACCESS_KEY', { secret: true }),
      createBuckets: r.bool('S3_CREATE_BUCKETS', true),
    },
    buckets: {
      source: bucket(r, 'BUCKET_SOURCE', 'video-avi'),
      video: bucket(r, 'BUCKET_VIDEO', 'video-mp4'),
      frames: bucket(r, 'BUCKET_FRAMES', 'unlabeled-images'),
      library: bucket(r, 'BUCKET_LIBRARY', 'video-library'),
    },
    smtpUrl: r.url('SMTP_URL', undefined, ['smtp', 'smtps']),
    metricsPort: r.int('METRICS_PORT', 9464, 0, 65535),
    concurrency,
    media: {
      ffmpegPath: r.string('FFMPEG_PATH', 'ffmpeg'),
      ffprobePath: r.string('FFPROBE_PATH', 'ffprobe'),
      workDir: absolutePath(r, 'VIGIL_WORK_DIR', join(tmpdir(), 'vigil')),
    },
    transcoder: transcoderConfig(r),
    face: {
      backend: r.oneOf('FACE_BACKEND', 'auto', FACE_BACKENDS),
      matchThreshold: r.number('FACE_MATCH_THRESHOLD', 0.6, 0.05, 2),
      workers: r.int('FACE_WORKERS', availableParallelism(), 1, 64),
      minConfidence: r.number('FACE_MIN_CONFIDENCE', 0.5, 0.05, 0.99),
      maxPixels: r.int('FACE_MAX_PIXELS', 40_000_000, 10_000, 500_000_000),
      maxSide: r.int('FACE_MAX_SIDE', 1280, 160, 8192),
      // Defaults measured on face-api's sample photos: natural crops read brightness 47+
      // and sharpness 53+; 120-pixel badge crops have faces of 60-95 pixels.
      quality: {
        minFaceSize: r.int('FACE_MIN_FACE_SIZE', 48, 16, 4096),
        minScore: r.number('FACE_MIN_SCORE', 0.8, 0.05, 1),
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
      alerts: alertRoute(r),
    },
    rescueAgeMs: r.duration('VIGIL_RESCUE_AGE', 15 * 60_000, 0, 30 * 24 * 3600_000),
    logLevel: r.oneOf('LOG_LEVEL', 'info', LOG_LEVELS),
    shutdownTimeoutMs: r.duration('VIGIL_SHUTDOWN_TIMEOUT', 30_000, 0, 3_600_000),
    lockTimeoutMs: r.duration('VIGIL_LOCK_TIMEOUT', 60_000, 0, 3_600_000),
  };

  if (config.broker.reconnectMinMs > config.broker.reconnectMaxMs) {
    r.problems.push({ variable: 'VIGIL_RECONNECT_MIN', expected: 'at most VIGIL_RECONNECT_MAX' });
  }
  if ((config.s3.accessKeyId === undefined) !== (config.s3.secretAccessKey === undefined)) {
    r.problems.push({ variable: 'S3_SECRET_ACCESS_KEY', expected: 'set together with S3_ACCESS_KEY_ID' });
  }
  if (r.problems.length > 0) throw new ConfigError(r.problems);
  return config;
}

function transcoderConfig(r: EnvReader): TranscoderConfig {
  const d = DEAD_FRAME_DEFAULTS;
  return {
    minFreeDiskBytes: byteSize(r, 'TRANSCODER_MIN_FREE_DISK', 2 * 1024 ** 3),
    stallTimeoutMs: r.duration('TRANSCODER_STALL_TIMEOUT', 60_000, 2_000, 3_600_000),
    timeLimitMs: r.duration('TRANSCODER_TIME_LIMIT', 3 * 3_600_000, 10_000, 48 * 3_600_000),
    encode: {
      preset: r.oneOf('TRANSCODER_PRESET', 'veryfast', X264_PRESETS),
      crf: r.int('TRANSCODER_CRF', 23, 0, 51),
    },
    dead: {
      blackPixelThreshold: r.int('TRANSCODER_BLACK_PIXEL_THRESHOLD', d.blackPixelThreshold, 0, 255),
      blackPercent: r.number('TRANSCODER_BLACK_PERCENT', d.blackPercent, 1, 100),
      freezeNoiseDb: r.number('TRANSCODER_FREEZE_NOISE_DB', d.freezeNoiseDb, -120, 0),
      freezeMinSeconds: r.number('TRANSCODER_FREEZE_SECONDS', d.freezeMinSeconds, 0.1, 3600),
      blurThreshold: r.number('TRANSCODER_BLUR_THRESHOLD', d.blurThreshold, 0.1, 1000),
    },
    split: {
      maxSeconds: r.number('TRANSCODER_SPLIT_ABOVE_SECONDS', 240, 1, 86_400),
      clipSeconds: r.number('TRANSCODER_CLIP_SECONDS', 120, 1, 86_400),
    },
    frames: {
      every: r.int('TRANSCODER_FRAME_EVERY', 10, 1, 10_000),
      width: r.int('TRANSCODER_FRAME_WIDTH', 1280, 16, 8192),
      height: r.int('TRANSCODER_FRAME_HEIGHT', 720, 16, 8192),
      dropDead: r.bool('TRANSCODER_DROP_DEAD_FRAMES', true),
    },
    deleteSource: r.bool('TRANSCODER_DELETE_SOURCE', true),
    fadeSeconds: r.number('TRANSCODER_FADE_SECONDS', 3, 0, 60),
  };
}

const SIZE_UNITS: Record<string, number> = {
  b: 1, kb: 1e3, mb: 1e6, gb: 1e9, tb: 1e12, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3, tib: 1024 ** 4,
};

/** A size such as `2GiB`, `500MB` or `512KiB`; a bare number is MiB. */
export function parseByteSize(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt]i?b|b)?$/i.exec(text.trim());
  if (!m) return undefined;
  const bytes = Number(m[1]) * (m[2] ? SIZE_UNITS[m[2].toLowerCase()]! : 1024 ** 2);
  return Number.isSafeInteger(Math.round(bytes)) ? Math.round(bytes) : undefined;
}

function byteSize(r: EnvReader, name: string, fallback: number): number {
  const v = r.optionalString(name);
  if (v === undefined) return fallback;
  const bytes = parseByteSize(v);
  if (bytes === undefined) {
    r.problems.push({ variable: name, expected: 'a size like 2GiB, 500MB or 2048 (MiB); 0 disables', got: v });
    return fallback;
  }
  return bytes;
}

function absolutePath(r: EnvReader, name: string, fallback: string): string {
  const v = r.string(name, fallback);
  if (!isAbsolute(v)) {
    r.problems.push({ variable: name, expected: 'an absolute path', got: v });
    return fallback;
  }
  return v;
}

function alertRoute(r: EnvReader): Config['face']['alerts'] {
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

function queuePrefix(r: EnvReader): string {
  const v = r.string('VIGIL_QUEUE_PREFIX', '');
  // Queue names are at most 255 bytes; keep room for ".retry.10m" and the queue itself.
  if (!/^[A-Za-z0-9_.:-]{0,100}$/.test(v)) {
    r.problems.push({ variable: 'VIGIL_QUEUE_PREFIX', expected: 'at most 100 of the characters A-Z a-z 0-9 _ . : -', got: v });
    return '';
  }
  return v;
}

function bucket(r: EnvReader, name: string, fallback: string): string {
  const v = r.string(name, fallback);
  // S3 bucket naming rules, path-style.
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(v)) {
    r.problems.push({ variable: name, expected: 'an S3 bucket name (3-63 of a-z 0-9 . -)', got: v });
    return fallback;
  }
  return v;
}

export { ConfigError } from './env-reader.ts';

import { LOG_LEVELS, type LogLevel } from '../logger.ts';
import type { ObjectStoreConfig } from '../storage/object-store.ts';
import { QUEUE_NAMES, type QueueName } from '../contract/queue-names.ts';
import { readBrokerConfig, type BrokerConfig } from './broker-config.ts';
import { readDatabaseConfig, type DatabaseConfig } from './database-config.ts';
import type { EnvReader } from './env-reader.ts';
import { readFaceConfig, type FaceConfig } from './face-config.ts';
import { readMediaConfig, type MediaConfig } from './media-config.ts';
import { readBucketsConfig, readObjectStoreConfig, type BucketsConfig } from './storage-config.ts';

/**
 * What the platform reads from the environment: the sections shared/app and the CLI use.
 * Each section is read by its own file (`*-config.ts`), with the option types of the module
 * it configures. A service's own section lives in its folder (`services/<name>/config.ts`);
 * `loadConfig` (`services/config.ts`) puts the two together.
 */
export interface PlatformConfig {
  broker: BrokerConfig;
  database: DatabaseConfig;
  s3: ObjectStoreConfig;
  buckets: BucketsConfig;
  /** @default undefined (email disabled) */
  smtpUrl: string | undefined;
  /** Port of /metrics, /healthz and /readyz; 0 picks a free port. @default 9464 */
  metricsPort: number;
  /** Messages handled at once per queue's consumer; prefetch equals it. */
  concurrency: Record<QueueName, number>;
  media: MediaConfig;
  face: FaceConfig;
  /** `vigil rescue` republishes rows left in N or P longer than this. @default 15 min */
  rescueAgeMs: number;
  /** @default 'info' */
  logLevel: LogLevel;
  /** How long in-flight jobs get to finish after SIGTERM. @default 30s */
  shutdownTimeoutMs: number;
  /** Longest wait for a per-key lock before the job is retried. @default 60s */
  lockTimeoutMs: number;
}

/**
 * Defaults. The face services take twice as many messages as there are face threads
 * (`FACE_WORKERS`): a job spends part of its time on the database and, for one employee's
 * burst, waiting for the employee's lock while its analysis is already done, so the extra
 * jobs keep every thread fed. The transcoder's ffmpeg uses every core on its own; the I/O
 * services take more.
 */
const UNSET = 0;
function defaultConcurrency(faceWorkers: number): Record<QueueName, number> {
  return { facetraining: 2 * faceWorkers, facestreaming: 2 * faceWorkers, transcoder: 1, uploader: 2, notifier: 8 };
}

/**
 * The platform's sections, read with the reader every section shares, so that `loadConfig`
 * reports every bad variable of every section together.
 */
export function readPlatformConfig(r: EnvReader): PlatformConfig {
  const config: PlatformConfig = {
    broker: readBrokerConfig(r),
    database: readDatabaseConfig(r),
    s3: readObjectStoreConfig(r),
    buckets: readBucketsConfig(r),
    smtpUrl: r.url('SMTP_URL', undefined, ['smtp', 'smtps']),
    metricsPort: r.int('METRICS_PORT', 9464, 0, 65535),
    concurrency: Object.fromEntries(
      QUEUE_NAMES.map((name) => [name, r.int(`${name.toUpperCase()}_CONCURRENCY`, UNSET, 1, 256)]),
    ) as Record<QueueName, number>,
    media: readMediaConfig(r),
    face: readFaceConfig(r),
    rescueAgeMs: r.duration('VIGIL_RESCUE_AGE', 15 * 60_000, 0, 30 * 24 * 3600_000),
    logLevel: r.oneOf('LOG_LEVEL', 'info', LOG_LEVELS),
    shutdownTimeoutMs: r.duration('VIGIL_SHUTDOWN_TIMEOUT', 30_000, 0, 3_600_000),
    lockTimeoutMs: r.duration('VIGIL_LOCK_TIMEOUT', 60_000, 0, 3_600_000),
  };
  const defaults = defaultConcurrency(config.face.workers);
  for (const name of QUEUE_NAMES) if (config.concurrency[name] === UNSET) config.concurrency[name] = defaults[name];
  return config;
}

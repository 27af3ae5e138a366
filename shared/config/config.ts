import { LOG_LEVELS, type LogLevel } from '../logger.ts';
import type { ObjectStoreConfig } from '../storage/object-store.ts';
import { QUEUE_NAMES, type QueueName } from '../contract/queue-names.ts';
import { readBrokerConfig, type BrokerConfig } from './broker-config.ts';
import { readDatabaseConfig, type DatabaseConfig } from './database-config.ts';
import { ConfigError, EnvReader, type Env } from './env-reader.ts';
import { readFaceConfig, type FaceConfig } from './face-config.ts';
import { readNotifierConfig, type NotifierConfig } from './notifier-config.ts';
import { readUpkeepConfig, type UpkeepConfig } from './upkeep-config.ts';
import { readMediaConfig, readTranscoderConfig, type MediaConfig, type TranscoderConfig } from './media-config.ts';
import { readBucketsConfig, readObjectStoreConfig, type BucketsConfig } from './storage-config.ts';
import { readUploaderConfig, type UploaderConfig } from './uploader-config.ts';

/**
 * Everything Vigil reads from the environment. Each section is read by its own file
 * (`*-config.ts`), with the option types of the module it configures; a new service adds
 * a section file and a line here.
 */
export interface Config {
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
  transcoder: TranscoderConfig;
  face: FaceConfig;
  uploader: UploaderConfig;
  notifier: NotifierConfig;
  upkeep: UpkeepConfig;
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
 * The only reader of the environment. Pure but for reading `X_FILE` secrets; throws a
 * `ConfigError` naming every bad variable.
 */
export function loadConfig(env: Env = process.env): Config {
  const r = new EnvReader(env);
  const config: Config = {
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
    transcoder: readTranscoderConfig(r),
    face: readFaceConfig(r),
    uploader: readUploaderConfig(r),
    notifier: readNotifierConfig(r),
    upkeep: readUpkeepConfig(r),
    rescueAgeMs: r.duration('VIGIL_RESCUE_AGE', 15 * 60_000, 0, 30 * 24 * 3600_000),
    logLevel: r.oneOf('LOG_LEVEL', 'info', LOG_LEVELS),
    shutdownTimeoutMs: r.duration('VIGIL_SHUTDOWN_TIMEOUT', 30_000, 0, 3_600_000),
    lockTimeoutMs: r.duration('VIGIL_LOCK_TIMEOUT', 60_000, 0, 3_600_000),
  };
  if (r.problems.length > 0) throw new ConfigError(r.problems);
  const defaults = defaultConcurrency(config.face.workers);
  for (const name of QUEUE_NAMES) if (config.concurrency[name] === UNSET) config.concurrency[name] = defaults[name];
  return config;
}

export { ConfigError } from './env-reader.ts';

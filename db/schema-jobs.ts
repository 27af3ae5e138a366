// The tables of the video, upload, import, notification and scheduling jobs; `Database` in
// schema.ts holds them with the rest.
import type { ColumnType, Generated } from 'kysely';
import type { CreatedAt } from './column-types.ts';

/** The transcoder's job lifecycle: queued → running → uploading → stored → done; failed is final too. */
export type VideoJobStatus = 'queued' | 'running' | 'uploading' | 'stored' | 'done' | 'failed' | 'retrying' | 'dead_lettered';

export interface VideoJobTable {
  id: Generated<number>;
  job_key_sha256: string;
  /** `jobId`, or `s3:<bucket>/<key>` (the codec's key). */
  job_key: string;
  source_bucket: string;
  source_key: string;
  status: ColumnType<VideoJobStatus, VideoJobStatus | undefined, VideoJobStatus>;
  attempts: ColumnType<number, number | undefined, number>;
  /** Processes that died while running it (the row was still `running` or `uploading`). */
  deaths: ColumnType<number, number | undefined, number>;
  /** JSON: the job as the last attempt ran it. */
  job: string | null;
  source_etag: string | null;
  source_bytes: number | null;
  source_seconds: number | null;
  /** JSON: `VideoJobOutputs` (db/repositories/transcoder.repository.ts). */
  outputs: string | null;
  frames_kept: number | null;
  frames_black: number | null;
  frames_frozen: number | null;
  frames_blurred: number | null;
  download_ms: number | null;
  ffmpeg_ms: number | null;
  total_ms: number | null;
  error_code: string | null;
  error_message: string | null;
  worker: string | null;
  created_at: CreatedAt;
  started_at: Date | null;
  finished_at: Date | null;
  source_deleted_at: Date | null;
  next_published_at: Date | null;
}

/** `vigil import`: a file's and a shard's status (a shard's comes from its files). */
export type ImportStatus = 'missing' | 'uploading' | 'uploaded' | 'failed';

export interface ImportJobTable {
  /** Short and printable, random. */
  id: string;
  /** SHA-256 of the directory's real path, the regex, the extensions and the bucket. */
  job_key_sha256: string;
  directory: string;
  regex: string;
  /** Comma-separated, lower case, without dots. */
  extensions: string;
  bucket: string;
  /** JSON: the hook data of the last run. */
  hook_data: string | null;
  status: ColumnType<ImportStatus, ImportStatus | undefined, ImportStatus>;
  runs: ColumnType<number, number | undefined, number>;
  unmatched: ColumnType<number, number | undefined, number>;
  /** The run holding the job's lock, `pid <n> on <host>`, and since when (left set by a killed run). */
  runner: ColumnType<string | null, string | null | undefined, string | null>;
  run_started_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
  created_at: CreatedAt;
  updated_at: ColumnType<Date, Date | undefined, Date>;
}

export interface ImportShardTable {
  job_id: string;
  shard_index: number;
  item_count: number;
  status: ColumnType<ImportStatus, ImportStatus | undefined, ImportStatus>;
  updated_at: ColumnType<Date, Date | undefined, Date>;
}

export interface ImportFileTable {
  id: Generated<number>;
  job_id: string;
  shard_index: number;
  rel_path_sha256: string;
  /** Relative to the job's directory, `/`-separated. */
  rel_path: string;
  size: number;
  mtime_ms: number;
  camera: string;
  epoch: number;
  object_key: string;
  sha256: string | null;
  etag: string | null;
  status: ColumnType<ImportStatus, ImportStatus | undefined, ImportStatus>;
  attempts: ColumnType<number, number | undefined, number>;
  error_code: string | null;
  last_error: string | null;
  created_at: CreatedAt;
  uploaded_at: Date | null;
  published_at: Date | null;
}

export type UploadTarget = 'library' | 'facebook';
/** `pending` to run, `running`, `postponed` until `next_attempt_at` (Facebook's rate limit), `done`, `failed` for good, `dead_lettered` after the retries. */
export type UploadStatus = 'pending' | 'running' | 'postponed' | 'done' | 'failed' | 'dead_lettered';

export interface UploadTable {
  id: Generated<number>;
  key_sha256: string;
  job_key_sha256: string;
  job_key: string;
  target: UploadTarget;
  source_bucket: string;
  source_key: string;
  status: ColumnType<UploadStatus, UploadStatus | undefined, UploadStatus>;
  attempts: ColumnType<number, number | undefined, number>;
  postponements: ColumnType<number, number | undefined, number>;
  next_attempt_at: Date | null;
  republished_at: Date | null;
  /** The upload job (JSON), as the sweeper republishes it. */
  job: string;
  source_etag: string | null;
  source_bytes: number | null;
  remote_id: string | null;
  url: string | null;
  fb_video_id: string | null;
  fb_session_id: string | null;
  fb_offset: number | null;
  fb_end_offset: number | null;
  last_error_code: string | null;
  last_error: string | null;
  worker: string | null;
  transfer_ms: number | null;
  created_at: CreatedAt;
  started_at: Date | null;
  finished_at: Date | null;
}

export interface UploadNoticeTable {
  id: Generated<number>;
  job_key_sha256: string;
  speaker_index: number;
  notification: string;
  created_at: CreatedAt;
  published_at: Date | null;
}

/** pending → sending → sent; failed and folded are final too; dead_lettered waits for a replay. */
export type NotificationStatus = 'pending' | 'sending' | 'sent' | 'failed' | 'folded' | 'dead_lettered';

export interface NotificationTable {
  id: Generated<number>;
  key_sha256: string;
  idempotency_key: string;
  /**
   * Where the key came from: `producer` (idempotencyKey), `message_id`, `content` (a hash),
   * `vigil` (a `vigil:` key bound to the content). Keys are unique per source.
   */
  key_source: 'producer' | 'message_id' | 'content' | 'vigil';
  channel: 'email' | 'webhook';
  /** JSON arrays of addresses or webhook targets. */
  recipients: string;
  delivered_to: string | null;
  folded_to: string | null;
  template: string;
  /** JSON: the notification's `data`. */
  data: string | null;
  /** SHA-256 of the canonical channel, recipients, template and data; null on rows older than 20261207T1000. */
  content_sha256: ColumnType<string | null, string | null | undefined, string | null>;
  status: ColumnType<NotificationStatus, NotificationStatus | undefined, NotificationStatus>;
  attempts: ColumnType<number, number | undefined, number>;
  message_id: string;
  provider_message_id: string | null;
  provider_response: string | null;
  error_code: string | null;
  error_message: string | null;
  worker: string | null;
  created_at: CreatedAt;
  sending_at: Date | null;
  finished_at: Date | null;
}

export interface NotificationRateTable {
  recipient_sha256: string;
  window_start: Date;
  sent: ColumnType<number, number | undefined, number>;
}

export interface ScheduledJobTable {
  name: string;
  started_at: Date;
  finished_at: Date | null;
  runner: string;
  runs: ColumnType<number, number | undefined, number>;
  /** JSON the job keeps between runs. */
  state: string | null;
  error_code: string | null;
  error_message: string | null;
}

/** The orphan rescue's back-off: one row per stuck row it republished (`kind`: its table). */
export interface RescueAttemptTable {
  kind: RescueKind;
  row_id: number;
  attempts: number;
  last_at: Date;
  next_at: Date;
}

export type RescueKind = 'train' | 'stream' | 'video';

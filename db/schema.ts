import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';
import type { ResultCode } from '../shared/contract/result-codes.ts';

/** Row status, CONTRACT.md: `N` new, `P` processing, `Y` processed, `F` failed for good. */
export type RowStatus = 'N' | 'P' | 'Y' | 'F';
export type ImageType = 'train' | 'stream';

type CreatedAt = ColumnType<Date, Date | undefined, never>;

export interface EmployeeTable {
  id: Generated<number>;
  lan_id: string;
  name: string | null;
  email: string | null;
  created_at: CreatedAt;
}

/** Columns `train_img` and `stream_img` share (CONTRACT.md, "Database"). */
interface ImageRowColumns {
  id: Generated<number>;
  lan_id: string;
  capture_time: ColumnType<Date, Date | undefined, Date>;
  image: Buffer | null;
  status: ColumnType<RowStatus, RowStatus | undefined, RowStatus>;
  result: ResultCode | null;
  processed_time: Date | null;
  num_faces: number | null;
}

export type TrainImgTable = ImageRowColumns;

export interface StreamImgTable extends ImageRowColumns {
  accuracy: number | null;
  distance: number | null;
  train_img_id: number | null;
}

export interface ProcessStatusTable {
  id: Generated<number>;
  image_type: ImageType;
  image_id: number;
  status: RowStatus;
  result: ResultCode | null;
  /** JSON text: the reasons and evidence behind the result. */
  detail: string | null;
  attempt: number;
  worker: string | null;
  started_at: Date;
  finished_at: Date | null;
}

export interface ResultCodeTable {
  code: ResultCode;
  description: string;
  /** TINYINT(1): 1 or 0. */
  is_success: number;
}

export interface FaceDescriptorTable {
  id: Generated<number>;
  train_img_id: number;
  lan_id: string;
  model: string;
  /** 128 float32, little-endian (`db/descriptor.ts`). */
  descriptor: Buffer;
  /** JSON: the face box in the enrolment photo. */
  box: string;
  score: number;
  /** JSON: the quality measures at enrolment. */
  quality: string;
  created_at: CreatedAt;
}

export interface SnapshotFaceTable {
  stream_img_id: number;
  lan_id: string;
  capture_time: Date;
  image_sha256: string;
  /** TINYINT(1): the best face matched the employee. */
  matched: number;
  /** 128 float32, little-endian; null without a face. */
  descriptor: Buffer | null;
  /** 68 (x, y) float32 LE pairs relative to the face box; null without a face. */
  landmarks: Buffer | null;
  created_at: CreatedAt;
}

export type FaceAlertKind = 'impersonation' | 'absence' | 'unknown_person';
/** `invalid`: the stored notification failed the notifier's codec and was never published. */
export type FaceAlertState = 'pending' | 'published' | 'unrouted' | 'invalid';

export interface FaceAlertTable {
  id: Generated<number>;
  lan_id: string;
  stream_img_id: number;
  kind: FaceAlertKind;
  state: FaceAlertState;
  /** JSON: the notification as published to `notifier`. */
  notification: string;
  created_at: CreatedAt;
  published_at: Date | null;
}

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

export type ProposalStatus = 'pending' | 'approved' | 'rejected';
export type ConsoleRole = 'viewer' | 'supervisor' | 'teamlead' | 'admin';

/** A supervisor's proposal of a snapshot's face for the employee's gallery (issue 26). */
export interface GalleryProposalTable {
  id: Generated<number>;
  lan_id: string;
  /** Null once retention deleted the snapshot. */
  stream_img_id: number | null;
  /** Which face of the snapshot (its `stream_face` index). */
  face_index: number;
  proposed_by: string;
  proposed_at: CreatedAt;
  status: ColumnType<ProposalStatus, ProposalStatus | undefined, ProposalStatus>;
  decided_by: string | null;
  decided_at: Date | null;
  reason: string | null;
  /** The `train_img` row an approval made. */
  train_img_id: number | null;
}

/** A gallery face taken out (kept for the audit, no longer compared); undo deletes the row. */
export interface GalleryRemovalTable {
  train_img_id: number;
  lan_id: string;
  removed_by: string;
  removed_at: CreatedAt;
  reason: string | null;
}

/** A snapshot's face a supervisor said is not the employee. */
export interface NotThisFaceTable {
  id: Generated<number>;
  lan_id: string;
  /** Null once retention deleted the snapshot. */
  stream_img_id: number | null;
  face_index: number;
  model: string;
  /** 128 float32, little-endian. */
  descriptor: Buffer;
  recorded_by: string;
  recorded_at: CreatedAt;
}

export interface EmployeeThresholdTable {
  lan_id: string;
  threshold: number;
  set_by: string;
  set_at: ColumnType<Date, Date | undefined, Date>;
  reason: string | null;
}

/** A team lead's decision that two employees with close faces are different people. */
export interface IdentityDistinctTable {
  id: Generated<number>;
  lan_id: string;
  other_lan_id: string;
  train_img_id: number | null;
  accepted_by: string;
  accepted_at: CreatedAt;
  reason: string | null;
}

/** Every face the engine found in a snapshot. */
export interface StreamFaceTable {
  stream_img_id: number;
  face_index: number;
  lan_id: string;
  /** JSON: {x, y, width, height} in image pixels. */
  box: string;
  score: number;
  /** 68 (x, y) float32 LE pairs in image pixels. */
  landmarks: Buffer | null;
  /** JSON: the quality measures. */
  quality: string | null;
  model: string;
  /** 128 float32, little-endian. */
  descriptor: Buffer;
}

/** Who did what and when; rows are only ever inserted. */
export interface AuditLogTable {
  id: Generated<number>;
  at: CreatedAt;
  actor: string;
  action: string;
  lan_id: string | null;
  subject: string | null;
  /** JSON text. */
  before_state: string | null;
  after_state: string | null;
}

export interface ConsoleUserTable {
  id: Generated<number>;
  name: string;
  role: ConsoleRole;
  /** scrypt, PHC-style string (shared/accounts/password.ts). */
  password_hash: string;
  created_at: CreatedAt;
  disabled_at: Date | null;
}

export interface ConsoleSessionTable {
  /** sha256 of the cookie's token, hex. */
  id: string;
  user_id: number;
  created_at: CreatedAt;
  last_seen_at: ColumnType<Date, Date | undefined, Date>;
  csrf_token: string;
}

/** Failed console sign-ins per account name or client address (both as sha256 hex), shared by replicas. */
export interface ConsoleSigninFailureTable {
  kind: 'account' | 'address';
  key: string;
  failures: number;
  window_start: Date;
  locked_until: Date | null;
}

export type ReviewKind = 'snapshot' | 'absence' | 'enrolment';
export type ReviewDecisionValue = 'confirm' | 'dismiss';

/** A supervisor's decision on a review queue item (a snapshot, an absence alert, a refused enrolment). */
export interface ReviewDecisionTable {
  kind: ReviewKind;
  /** `stream_img.id`, `face_alert.id` or `train_img.id`, by kind. */
  item_id: number;
  lan_id: string;
  decision: ReviewDecisionValue;
  decided_by: string;
  decided_at: CreatedAt;
  reason: string | null;
}

export interface Database {
  employee: EmployeeTable;
  train_img: TrainImgTable;
  stream_img: StreamImgTable;
  process_status: ProcessStatusTable;
  result_code: ResultCodeTable;
  face_descriptor: FaceDescriptorTable;
  snapshot_face: SnapshotFaceTable;
  face_alert: FaceAlertTable;
  video_job: VideoJobTable;
  upload: UploadTable;
  upload_notice: UploadNoticeTable;
  import_job: ImportJobTable;
  import_shard: ImportShardTable;
  import_file: ImportFileTable;
  notification: NotificationTable;
  notification_rate: NotificationRateTable;
  scheduled_job: ScheduledJobTable;
  rescue_attempt: RescueAttemptTable;
  gallery_proposal: GalleryProposalTable;
  gallery_removal: GalleryRemovalTable;
  not_this_face: NotThisFaceTable;
  employee_threshold: EmployeeThresholdTable;
  identity_distinct: IdentityDistinctTable;
  stream_face: StreamFaceTable;
  audit_log: AuditLogTable;
  console_user: ConsoleUserTable;
  console_session: ConsoleSessionTable;
  console_signin_failure: ConsoleSigninFailureTable;
  review_decision: ReviewDecisionTable;
}

export type TrainImg = Selectable<TrainImgTable>;
export type NewTrainImg = Insertable<TrainImgTable>;
export type TrainImgUpdate = Updateable<TrainImgTable>;
export type StreamImg = Selectable<StreamImgTable>;
export type NewStreamImg = Insertable<StreamImgTable>;
export type StreamImgUpdate = Updateable<StreamImgTable>;
export type NewProcessStatus = Insertable<ProcessStatusTable>;

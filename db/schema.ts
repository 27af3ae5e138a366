import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';
import type { CreatedAt } from './column-types.ts';
import type { ResultCode } from '../shared/contract/result-codes.ts';
import type { ImportFileTable, ImportJobTable, ImportShardTable, NotificationRateTable, NotificationTable, RescueAttemptTable, ScheduledJobTable, UploadNoticeTable, UploadTable, VideoJobTable } from './schema-jobs.ts';
import type { AuditLogTable, ConsoleSessionTable, ConsoleSigninFailureTable, ConsoleUserTable, EmployeeThresholdTable, GalleryProposalTable, GalleryRemovalTable, IdentityDistinctTable, NotThisFaceTable, ReviewDecisionTable, StreamFaceTable } from './schema-review.ts';

export type * from './schema-jobs.ts';
export type * from './schema-review.ts';

/** Row status, CONTRACT.md: `N` new, `P` processing, `Y` processed, `F` failed for good. */
export type RowStatus = 'N' | 'P' | 'Y' | 'F';
export type ImageType = 'train' | 'stream';

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

// The tables of the gallery, the review queue and the console (issues 26 and 28); `Database`
// in schema.ts holds them with the rest.
import type { ColumnType, Generated } from 'kysely';
import type { CreatedAt } from './column-types.ts';

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

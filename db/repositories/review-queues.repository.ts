import type { Kysely } from 'kysely';
import type { ResultCode } from '../../shared/contract/result-codes.ts';
import { capturedBefore } from '../capture-order.ts';
import { stateCondition, type ReviewState } from '../review-state.ts';
import type { Database } from '../schema.ts';
import { REFUSED_ENROLMENT_RESULTS, type RefusedEnrolmentResult } from './review-decision.repository.ts';
import { parseJsonObject } from '../json-column.ts';
import { newestAttemptDetails } from './image-attempt.ts';

/** The filters the absence and enrolment lists share with the snapshots'; times are the alert's for an absence, the capture's for an enrolment. */
export interface ReviewListFilter {
  lanId?: string;
  /** Inclusive. */
  from?: Date;
  /** Exclusive. */
  to?: Date;
  /** Keyset cursor: rows strictly older than this (time, id). */
  before?: { captureTime: Date; id: number };
  state: ReviewState;
  limit: number;
}

export interface AbsenceRow {
  /** `face_alert.id`. */
  id: number;
  lanId: string;
  streamImgId: number;
  /** When the alert was raised. */
  createdAt: Date;
  /** The snapshot that ended the streak, and the streak's length, as the notification says. */
  captureTime: Date | null;
  streak: number | null;
}

export interface EnrolmentRow {
  id: number;
  lanId: string;
  result: ResultCode | null;
  captureTime: Date;
  numFaces: number | null;
}

export interface EnrolmentItem extends EnrolmentRow {
  status: string;
  processedTime: Date | null;
  hasImage: boolean;
  /** The newest finished attempt's detail (JSON), as facetraining wrote it: faces, reasons, duplicateOf. */
  detail: Record<string, unknown> | null;
}

/** The review queue's other two lists (absence streaks, refused enrolments) and an enrolment's page. */
export interface ReviewQueuesRepository {
  absences(f: ReviewListFilter): Promise<AbsenceRow[]>;
  enrolments(f: ReviewListFilter & { results: readonly RefusedEnrolmentResult[] }): Promise<EnrolmentRow[]>;
  enrolment(id: number): Promise<EnrolmentItem | undefined>;
}

export function reviewQueuesRepository(db: Kysely<Database>): ReviewQueuesRepository {
  return {
    async absences(f) {
      return (await absencesQuery(db, f).execute()).map((r) => {
        const data = parseJsonObject(r.notification)?.data as Record<string, unknown> | undefined;
        const capture = typeof data?.captureTime === 'string' ? new Date(data.captureTime) : null;
        return {
          id: Number(r.id), lanId: r.lan_id, streamImgId: Number(r.stream_img_id), createdAt: r.created_at,
          captureTime: capture && !Number.isNaN(capture.getTime()) ? capture : null,
          streak: typeof data?.streak === 'number' ? data.streak : null,
        };
      });
    },
    async enrolments(f) {
      return (await enrolmentsQuery(db, f).execute()).map((r) => ({ id: Number(r.id), lanId: r.lan_id, result: r.result, captureTime: r.capture_time, numFaces: r.num_faces }));
    },
    async enrolment(id) {
      const r = await db
        .selectFrom('train_img')
        .select(['id', 'lan_id', 'status', 'result', 'capture_time', 'processed_time', 'num_faces'])
        .select((eb) => eb('image', 'is not', null).as('has_image'))
        .where('id', '=', id)
        .executeTakeFirst();
      if (!r) return undefined;
      const detail = (await newestAttemptDetails(db, 'train', [id])).get(id) ?? null;
      return {
        id: Number(r.id), lanId: r.lan_id, status: r.status, result: r.result, captureTime: r.capture_time, processedTime: r.processed_time,
        numFaces: r.num_faces, hasImage: Number(r.has_image) === 1, detail: parseJsonObject(detail),
      };
    },
  };
}

/** Absence alerts newest first by (created_at, id): `face_alert_kind_created`, or `face_alert_lan` with a lan_id. */
export function absencesQuery(db: Kysely<Database>, f: ReviewListFilter) {
  let q = db.selectFrom('face_alert').select(['id', 'lan_id', 'stream_img_id', 'created_at', 'notification']).where('kind', '=', 'absence');
  if (f.lanId !== undefined) q = q.where('lan_id', '=', f.lanId);
  if (f.from !== undefined) q = q.where('created_at', '>=', f.from);
  if (f.to !== undefined) q = q.where('created_at', '<', f.to);
  if (f.before !== undefined) q = q.where(capturedBefore(f.before.captureTime, f.before.id, { captureTime: 'created_at', id: 'id' }));
  const state = stateCondition('absence', 'face_alert.id', f.state);
  if (state) q = q.where(state);
  return q.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(f.limit);
}

/**
 * Refused enrolments newest first by (capture_time, id): one result walks
 * `train_img_result_capture`, the four together `train_img_capture`, as the snapshots do.
 */
export function enrolmentsQuery(db: Kysely<Database>, f: ReviewListFilter & { results: readonly RefusedEnrolmentResult[] }) {
  let q = db.selectFrom('train_img').select(['id', 'lan_id', 'result', 'capture_time', 'num_faces'])
    .where('result', 'in', f.results.length > 0 ? [...f.results] : [...REFUSED_ENROLMENT_RESULTS]);
  if (f.lanId !== undefined) q = q.where('lan_id', '=', f.lanId);
  if (f.from !== undefined) q = q.where('capture_time', '>=', f.from);
  if (f.to !== undefined) q = q.where('capture_time', '<', f.to);
  if (f.before !== undefined) q = q.where(capturedBefore(f.before.captureTime, f.before.id));
  const state = stateCondition('enrolment', 'train_img.id', f.state);
  if (state) q = q.where(state);
  return q.orderBy('capture_time', 'desc').orderBy('id', 'desc').limit(f.limit);
}

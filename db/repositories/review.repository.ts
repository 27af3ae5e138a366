import type { Kysely } from 'kysely';
import type { ResultCode } from '../../shared/contract/result-codes.ts';
import type { Database } from '../schema.ts';
import { imageBytes } from './image-bytes.ts';
import { capturedAfter, capturedBefore } from '../capture-order.ts';
import { stateCondition, type ReviewState } from '../review-state.ts';
import { parseJsonObject } from '../json-column.ts';
import { newestAttemptDetails } from './image-attempt.ts';

/** The results a supervisor reviews: the snapshots that were not the employee, or looked staged. */
export const REVIEW_RESULTS = ['UNKNOWN_PERSON', 'UNKNOWN_MULTIPLE_FACES', 'IMPERSONATION_SUSPECTED'] as const satisfies readonly ResultCode[];
export type ReviewResult = (typeof REVIEW_RESULTS)[number];

export interface ReviewQueueFilter {
  results: readonly ReviewResult[];
  lanId?: string;
  /** Inclusive. */
  from?: Date;
  /** Exclusive. */
  to?: Date;
  /** Keyset cursor: rows strictly older than this (capture_time, id). */
  before?: { captureTime: Date; id: number };
  /** @default 'all' */
  state?: ReviewState;
  limit: number;
}

export interface ReviewQueueRow {
  id: number;
  lanId: string;
  result: ResultCode | null;
  distance: number | null;
  captureTime: Date;
}

export interface ReviewFace {
  faceIndex: number;
  box: { x: number; y: number; width: number; height: number } | null;
  score: number;
  quality: Record<string, unknown> | null;
}

export interface ReviewItem {
  id: number;
  lanId: string;
  status: string;
  result: ResultCode | null;
  distance: number | null;
  accuracy: number | null;
  trainImgId: number | null;
  captureTime: Date;
  hasImage: boolean;
  faces: ReviewFace[];
  /** The newest finished attempt's detail (JSON), when there is one. */
  detail: Record<string, unknown> | null;
  alerts: { id: number; kind: string; state: string; createdAt: Date }[];
  proposals: { id: number; faceIndex: number; proposedBy: string; status: string; decidedBy: string | null }[];
  notThis: { faceIndex: number; by: string }[];
}

/** The console's review pages' reads: the queue, one snapshot, and the images. */
export interface ReviewRepository {
  queue(f: ReviewQueueFilter): Promise<ReviewQueueRow[]>;
  /** The items next to one in the queue's order under the same filter: `older` comes after it on the page, `newer` before. */
  neighbours(at: { captureTime: Date; id: number }, f: Omit<ReviewQueueFilter, 'before' | 'limit'>): Promise<{ newer: number | undefined; older: number | undefined }>;
  item(id: number): Promise<ReviewItem | undefined>;
  snapshotImage(id: number): Promise<Buffer | undefined>;
  enrolmentImage(id: number): Promise<Buffer | undefined>;
  /** Whether the row still has its image (a cached thumbnail is served only then: retention and delete-user remove images). */
  hasImage(kind: 'snapshot' | 'enrolment', id: number): Promise<boolean>;
}

export function reviewRepository(db: Kysely<Database>): ReviewRepository {
  return {
    async queue(f) {
      return (await queueQuery(db, f).execute()).map((r) => ({
        id: Number(r.id), lanId: r.lan_id, result: r.result, distance: r.distance, captureTime: r.capture_time,
      }));
    },
    async neighbours(at, f) {
      const [older] = await queueQuery(db, { ...f, before: at, limit: 1 }).execute();
      const [newer] = await queueBase(db, f).where(capturedAfter(at.captureTime, at.id)).orderBy('capture_time', 'asc').orderBy('id', 'asc').limit(1).execute();
      return { older: older && Number(older.id), newer: newer && Number(newer.id) };
    },
    async item(id) {
      const r = await db
        .selectFrom('stream_img')
        .select(['id', 'lan_id', 'status', 'result', 'distance', 'accuracy', 'train_img_id', 'capture_time'])
        .select((eb) => eb('image', 'is not', null).as('has_image'))
        .where('id', '=', id)
        .executeTakeFirst();
      if (!r) return undefined;
      const [faces, detail, alerts, proposals, notThis] = await Promise.all([
        db.selectFrom('stream_face').select(['face_index', 'box', 'score', 'quality']).where('stream_img_id', '=', id).orderBy('face_index').execute(),
        newestAttemptDetails(db, 'stream', [id]).then((m) => m.get(id) ?? null),
        db.selectFrom('face_alert').select(['id', 'kind', 'state', 'created_at']).where('stream_img_id', '=', id).orderBy('id').execute(),
        db.selectFrom('gallery_proposal').select(['id', 'face_index', 'proposed_by', 'status', 'decided_by']).where('stream_img_id', '=', id).orderBy('id').execute(),
        db.selectFrom('not_this_face').select(['face_index', 'recorded_by']).where('stream_img_id', '=', id).orderBy('id').execute(),
      ]);
      return {
        id: Number(r.id),
        lanId: r.lan_id,
        status: r.status,
        result: r.result,
        distance: r.distance,
        accuracy: r.accuracy,
        trainImgId: r.train_img_id === null ? null : Number(r.train_img_id),
        captureTime: r.capture_time,
        hasImage: Number(r.has_image) === 1,
        faces: faces.map((f) => ({ faceIndex: f.face_index, box: parseJsonObject(f.box) as ReviewFace['box'], score: f.score, quality: parseJsonObject(f.quality) })),
        detail: parseJsonObject(detail),
        alerts: alerts.map((a) => ({ id: Number(a.id), kind: a.kind, state: a.state, createdAt: a.created_at })),
        proposals: proposals.map((p) => ({ id: Number(p.id), faceIndex: p.face_index, proposedBy: p.proposed_by, status: p.status, decidedBy: p.decided_by })),
        notThis: notThis.map((n) => ({ faceIndex: n.face_index, by: n.recorded_by })),
      };
    },
    snapshotImage: async (id) => (await imageBytes(db, 'stream_img', id)) ?? undefined,
    async hasImage(kind, id) {
      const r = await db.selectFrom(kind === 'snapshot' ? 'stream_img' : 'train_img').select('id').where('id', '=', id).where('image', 'is not', null).executeTakeFirst();
      return r !== undefined;
    },
    enrolmentImage: async (id) => (await imageBytes(db, 'train_img', id)) ?? undefined,
  };
}

/** The queue's statement: newest first by (capture_time, id), a keyset cursor, never OFFSET. */
export function queueQuery(db: Kysely<Database>, f: ReviewQueueFilter) {
  let q = queueBase(db, f);
  const b = f.before;
  if (b !== undefined) {
    q = q.where(capturedBefore(b.captureTime, b.id));
  }
  return q.orderBy('capture_time', 'desc').orderBy('id', 'desc').limit(f.limit);
}

/** The queue's filters without order or cursor; `state` probes the decisions of each row the index walk meets. */
function queueBase(db: Kysely<Database>, f: Omit<ReviewQueueFilter, 'before' | 'limit'>) {
  let q = db
    .selectFrom('stream_img')
    .select(['id', 'lan_id', 'result', 'distance', 'capture_time'])
    .where('result', 'in', [...f.results]);
  if (f.lanId !== undefined) q = q.where('lan_id', '=', f.lanId);
  if (f.from !== undefined) q = q.where('capture_time', '>=', f.from);
  if (f.to !== undefined) q = q.where('capture_time', '<', f.to);
  const state = stateCondition('snapshot', 'stream_img.id', f.state ?? 'all');
  if (state) q = q.where(state);
  return q;
}

import { sql, type ExpressionBuilder, type Kysely } from 'kysely';
import { finishImageAttempt, releaseImageAttempt, startImageAttempt } from './image-attempt.ts';
import type { Database, FaceAlertKind, FaceAlertState, RowStatus } from '../schema.ts';
import type { StreamResult } from '../../shared/contract/result-codes.ts';
import { decodeDescriptor, decodeLandmarks, encodeDescriptor, encodeLandmarks } from '../descriptor.ts';
import { lanIdColumnWeight } from '../lan-id-weight.ts';
import { activeGalleryFaceRows } from './gallery-face-rows.ts';
import { imageBytes } from './image-bytes.ts';
import { capturedBefore } from '../capture-order.ts';

export interface SnapshotRow {
  id: number;
  lanId: string;
  captureTime: Date;
  status: RowStatus;
}

/** A snapshot as its job finds it: with the server's weight of its lan_id (db/lan-id-weight.ts), what the employee lock is named after. */
export interface FoundSnapshot extends SnapshotRow {
  lanIdWeight: string;
}

/** A face of the employee's gallery (CONTRACT.md, "Gallery"): an accepted enrolment or an approved snapshot. */
export interface GalleryFace {
  trainImgId: number;
  descriptor: Float32Array;
  model: string;
}

/** A snapshot's face a supervisor said is not the employee. */
export interface NotThisFace {
  streamImgId: number;
  faceIndex: number;
  descriptor: Float32Array;
  model: string;
}

/** What a snapshot is compared against (CONTRACT.md, `stream_img.result` and "Gallery"). */
export type GalleryLookup = {
  /** An enrolment newer than the newest processed one is waiting for facetraining. */
  pending: boolean;
  /** The employee's own threshold, when a team lead set one. */
  threshold: number | null;
} & (
  | { kind: 'none' }
  /** The newest processed enrolment from a producer failed: `TRAINING_IMAGE_FAILED`. */
  | { kind: 'failed'; trainImgId: number; result: string | null }
  /** The newest active gallery faces, newest first, and the faces said not to be the employee. */
  | { kind: 'ready'; faces: GalleryFace[]; notThis: NotThisFace[] }
);

/** One face the engine found in a snapshot, as `stream_face` keeps it. */
export interface StreamFaceRow {
  box: { x: number; y: number; width: number; height: number };
  score: number;
  landmarks: { x: number; y: number }[];
  quality: unknown;
  model: string;
  descriptor: ArrayLike<number>;
}

export interface SnapshotTraceRow {
  streamImgId: number;
  sha256: string;
  descriptor?: Float32Array;
  landmarks?: { x: number; y: number }[];
}

export interface NewAlert {
  kind: FaceAlertKind;
  state: FaceAlertState;
  notification: unknown;
}

export interface SnapshotVerdict {
  id: number;
  lanId: string;
  captureTime: Date;
  attemptId: number;
  result: StreamResult;
  numFaces: number | null;
  distance: number | null;
  accuracy: number | null;
  trainImgId: number | null;
  detail: unknown;
  /** Every face found, when the snapshot was analysed (`stream_face`). */
  faces?: StreamFaceRow[];
  /** Kept when the snapshot was analysed. */
  trace?: { sha256: string; matched: boolean; descriptor?: ArrayLike<number>; landmarks?: { x: number; y: number }[] };
  alerts: NewAlert[];
}

/** The facestreaming job's queries. */
export interface FacestreamingRepository {
  findSnapshot(id: number): Promise<FoundSnapshot | undefined>;
  imageOf(id: number): Promise<Buffer | null>;
  /** The employee's snapshots captured before this one and not judged yet, oldest first. */
  pendingBefore(s: SnapshotRow, limit: number): Promise<SnapshotRow[]>;
  /** The employee's gallery: the newest `size` active faces, the not-this faces, the threshold. */
  galleryFor(lanId: string, size: number): Promise<GalleryLookup>;
  /** The employee's successful snapshots before this one, newest first. */
  matchedTracesBefore(s: SnapshotRow, limit: number): Promise<SnapshotTraceRow[]>;
  /** The employee's verdicts before this one, newest first. */
  verdictsBefore(s: SnapshotRow, results: readonly StreamResult[], limit: number): Promise<StreamResult[]>;
  /** Marks the row `P` and opens an attempt; `attempt` defaults to the attempts recorded so far + 1. */
  startAttempt(a: { id: number; attempt?: number; worker: string }): Promise<number>;
  /** The result, the attempt, the trace and the alerts, in one transaction. */
  recordVerdict(v: SnapshotVerdict): Promise<void>;
  releaseAttempt(a: { id: number; attemptId: number; detail: unknown }): Promise<void>;
}

/** The newest faces said not to be the employee that a snapshot is also compared with. */
const NOT_THIS_LIMIT = 100;

export function facestreamingRepository(db: Kysely<Database>): FacestreamingRepository {
  const toRow = (r: { id: number; lan_id: string; capture_time: Date; status: RowStatus }): SnapshotRow => ({
    id: r.id,
    lanId: r.lan_id,
    captureTime: r.capture_time,
    status: r.status,
  });
  return {
    async findSnapshot(id) {
      const r = await db
        .selectFrom('stream_img')
        .select(['id', 'lan_id', lanIdColumnWeight().as('lan_id_weight'), 'capture_time', 'status'])
        .where('id', '=', id)
        .executeTakeFirst();
      return r && { ...toRow(r), lanIdWeight: r.lan_id_weight };
    },
    imageOf: (id) => imageBytes(db, 'stream_img', id),
    async pendingBefore(s, limit) {
      const rows = await db
        .selectFrom('stream_img')
        .select(['id', 'lan_id', 'capture_time', 'status'])
        .where('lan_id', '=', s.lanId)
        .where('status', 'in', ['N', 'P'])
        .where(capturedBefore(s.captureTime, s.id))
        .orderBy('capture_time')
        .orderBy('id')
        .limit(limit)
        .execute();
      return rows.map(toRow);
    },
    async galleryFor(lanId, size) {
      // "Newest" is the highest id, as the seed's max(id): insertion order, whatever
      // capture_time a producer wrote. An enrolment from a producer is one no approval made.
      const fromProducer = (eb: ExpressionBuilder<Database, 'train_img'>) =>
        eb.not(eb.exists(eb.selectFrom('gallery_proposal as p').select('p.id').whereRef('p.train_img_id', '=', 'train_img.id')));
      const [newestProcessed, newestFromProducer, own] = await Promise.all([
        db.selectFrom('train_img').select('id').where('lan_id', '=', lanId).where('status', 'in', ['Y', 'F']).orderBy('id', 'desc').limit(1).executeTakeFirst(),
        db.selectFrom('train_img').select(['id', 'result']).where('lan_id', '=', lanId).where('status', 'in', ['Y', 'F']).where(fromProducer).orderBy('id', 'desc').limit(1).executeTakeFirst(),
        db.selectFrom('employee_threshold').select('threshold').where('lan_id', '=', lanId).executeTakeFirst(),
      ]);
      let waiting = db.selectFrom('train_img').select('id').where('lan_id', '=', lanId).where('status', 'in', ['N', 'P']);
      if (newestProcessed) waiting = waiting.where('id', '>', newestProcessed.id);
      const pending = (await waiting.limit(1).executeTakeFirst()) !== undefined;
      const threshold = own?.threshold ?? null;
      if (newestFromProducer && newestFromProducer.result !== 'SUCCESS') {
        return { pending, threshold, kind: 'failed', trainImgId: newestFromProducer.id, result: newestFromProducer.result };
      }
      const [faces, notThis] = await Promise.all([
        activeGalleryFaceRows(db)
          .select(['d.train_img_id', 'd.descriptor', 'd.model'])
          .where('d.lan_id', '=', lanId)
          .orderBy('d.train_img_id', 'desc')
          .limit(size)
          .execute(),
        db
          .selectFrom('not_this_face')
          .select(['stream_img_id', 'face_index', 'descriptor', 'model'])
          .where('lan_id', '=', lanId)
          .orderBy('id', 'desc')
          .limit(NOT_THIS_LIMIT)
          .execute(),
      ]);
      if (faces.length === 0) return { pending, threshold, kind: 'none' };
      return {
        pending,
        threshold,
        kind: 'ready',
        faces: faces.map((f) => ({ trainImgId: Number(f.train_img_id), descriptor: decodeDescriptor(f.descriptor), model: f.model })),
        notThis: notThis.map((n) => ({ streamImgId: Number(n.stream_img_id), faceIndex: n.face_index, descriptor: decodeDescriptor(n.descriptor), model: n.model })),
      };
    },
    async matchedTracesBefore(s, limit) {
      if (limit <= 0) return [];
      const rows = await db
        .selectFrom('snapshot_face')
        .select(['stream_img_id', 'image_sha256', 'descriptor', 'landmarks'])
        .where('lan_id', '=', s.lanId)
        .where('matched', '=', 1)
        .where(capturedBefore(s.captureTime, s.id, { captureTime: 'capture_time', id: 'stream_img_id' }))
        .orderBy('capture_time', 'desc')
        .orderBy('stream_img_id', 'desc')
        .limit(limit)
        .execute();
      return rows.map((r) => ({
        streamImgId: r.stream_img_id,
        sha256: r.image_sha256,
        descriptor: r.descriptor ? decodeDescriptor(r.descriptor) : undefined,
        landmarks: r.landmarks ? decodeLandmarks(r.landmarks) : undefined,
      }));
    },
    async verdictsBefore(s, results, limit) {
      if (limit <= 0) return [];
      const rows = await db
        .selectFrom('stream_img')
        .select('result')
        .where('lan_id', '=', s.lanId)
        // Not on the bare column: `result IN (…)` had the optimizer weigh the (result, …)
        // index, five dives into a tree that grows with the table, for a read that walks
        // the employee's own entries and stops after a few (0.14 ms at a million rows, 0.22 with the dives).
        .where(sql<string>`COALESCE(result, '')`, 'in', [...results])
        .where(capturedBefore(s.captureTime, s.id))
        .orderBy('capture_time', 'desc')
        .orderBy('id', 'desc')
        .limit(limit)
        .execute();
      return rows.map((r) => r.result as StreamResult);
    },
    startAttempt: (a) => startImageAttempt(db, 'stream', a),
    async recordVerdict(v) {
      // A verdict on who sat at the desk is `Y`; no enrolment to compare with, or unreadable
      // bytes, is `F`: nothing was verified.
      const status: RowStatus = ['NO_TRAINING_IMAGE', 'TRAINING_IMAGE_FAILED', 'INVALID_IMAGE'].includes(v.result) ? 'F' : 'Y';
      const now = new Date();
      await db.transaction().execute(async (trx) => {
        if (v.trace) {
          await trx
            .insertInto('snapshot_face')
            .values({
              stream_img_id: v.id,
              lan_id: v.lanId,
              capture_time: v.captureTime,
              image_sha256: v.trace.sha256,
              matched: v.trace.matched ? 1 : 0,
              descriptor: v.trace.descriptor ? encodeDescriptor(v.trace.descriptor) : null,
              landmarks: v.trace.landmarks ? encodeLandmarks(v.trace.landmarks) : null,
            })
            .execute();
        }
        if (v.faces && v.faces.length > 0) {
          await trx
            .insertInto('stream_face')
            .values(
              v.faces.map((f, i) => ({
                stream_img_id: v.id,
                face_index: i,
                lan_id: v.lanId,
                box: JSON.stringify(f.box),
                score: f.score,
                landmarks: f.landmarks.length > 0 ? encodeLandmarks(f.landmarks) : null,
                quality: f.quality === undefined ? null : JSON.stringify(f.quality),
                model: f.model,
                descriptor: encodeDescriptor(f.descriptor),
              })),
            )
            .execute();
        }
        for (const a of v.alerts) {
          await trx
            .insertInto('face_alert')
            .values({ lan_id: v.lanId, stream_img_id: v.id, kind: a.kind, state: a.state, notification: JSON.stringify(a.notification) })
            .execute();
        }
        await trx
          .updateTable('stream_img')
          .set({
            status,
            result: v.result,
            processed_time: now,
            num_faces: v.numFaces,
            distance: v.distance,
            accuracy: v.accuracy,
            train_img_id: v.trainImgId,
          })
          .where('id', '=', v.id)
          .execute();
        await finishImageAttempt(trx, { attemptId: v.attemptId, status, result: v.result, detail: v.detail, at: now });
      });
    },
    releaseAttempt: (a) => releaseImageAttempt(db, 'stream', a),
  };
}

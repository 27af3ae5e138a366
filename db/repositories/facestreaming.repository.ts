import { sql, type Kysely, type SqlBool } from 'kysely';
import { finishImageAttempt, releaseImageAttempt, startImageAttempt } from './image-attempt.ts';
import type { Database, FaceAlertKind, FaceAlertState, RowStatus } from '../schema.ts';
import type { StreamResult } from '../../shared/contract/result-codes.ts';
import { decodeDescriptor, decodeLandmarks, encodeDescriptor, encodeLandmarks } from '../descriptor.ts';
import { lanIdColumnWeight } from '../lan-id-weight.ts';

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

/** The enrolment a snapshot is compared against (CONTRACT.md, `stream_img.result`). */
export type EnrolmentLookup = {
  /** An enrolment newer than the newest processed one is waiting for facetraining. */
  pending: boolean;
} & (
  | { kind: 'none' }
  | { kind: 'failed'; trainImgId: number; result: string | null }
  | { kind: 'ready'; trainImgId: number; descriptor: Float32Array; model: string }
);

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
  enrolmentFor(lanId: string): Promise<EnrolmentLookup>;
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

/**
 * Capture order: capture_time, then id for snapshots taken in the same millisecond. Written
 * as a row comparison, the reads walk the employee's index back from its newest entry and
 * stop at their limit; the same condition as `a < x OR (a = x AND b < y)` made the optimizer
 * estimate its ranges in the index first, which grew with the table (0.37 → 0.20 ms at a
 * million snapshots, where an empty table's took 0.36).
 */
function before(captureTime: Date, id: number, idColumn: 'id' | 'stream_img_id') {
  return sql<SqlBool>`(capture_time, ${sql.ref(idColumn)}) < (${captureTime}, ${id})`;
}

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
    async imageOf(id) {
      const r = await db.selectFrom('stream_img').select('image').where('id', '=', id).executeTakeFirst();
      return r?.image ?? null;
    },
    async pendingBefore(s, limit) {
      const rows = await db
        .selectFrom('stream_img')
        .select(['id', 'lan_id', 'capture_time', 'status'])
        .where('lan_id', '=', s.lanId)
        .where('status', 'in', ['N', 'P'])
        .where(before(s.captureTime, s.id, 'id'))
        .orderBy('capture_time')
        .orderBy('id')
        .limit(limit)
        .execute();
      return rows.map(toRow);
    },
    async enrolmentFor(lanId) {
      // "Newest" is the highest id, as the seed's max(id): insertion order, whatever
      // capture_time a producer wrote.
      const newest = await db
        .selectFrom('train_img')
        .select(['id', 'result'])
        .where('lan_id', '=', lanId)
        .where('status', 'in', ['Y', 'F'])
        .orderBy('id', 'desc')
        .limit(1)
        .executeTakeFirst();
      let waiting = db.selectFrom('train_img').select('id').where('lan_id', '=', lanId).where('status', 'in', ['N', 'P']);
      if (newest) waiting = waiting.where('id', '>', newest.id);
      const pending = (await waiting.limit(1).executeTakeFirst()) !== undefined;
      if (!newest) return { pending, kind: 'none' };
      if (newest.result !== 'SUCCESS') return { pending, kind: 'failed', trainImgId: newest.id, result: newest.result };
      const d = await db.selectFrom('face_descriptor').select(['descriptor', 'model']).where('train_img_id', '=', newest.id).executeTakeFirst();
      if (!d) return { pending, kind: 'failed', trainImgId: newest.id, result: 'descriptor missing' };
      return { pending, kind: 'ready', trainImgId: newest.id, descriptor: decodeDescriptor(d.descriptor), model: d.model };
    },
    async matchedTracesBefore(s, limit) {
      if (limit <= 0) return [];
      const rows = await db
        .selectFrom('snapshot_face')
        .select(['stream_img_id', 'image_sha256', 'descriptor', 'landmarks'])
        .where('lan_id', '=', s.lanId)
        .where('matched', '=', 1)
        .where(before(s.captureTime, s.id, 'stream_img_id'))
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
        .where(before(s.captureTime, s.id, 'id'))
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

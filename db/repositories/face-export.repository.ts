import type { Kysely } from 'kysely';
import { RESULT_CODES, type ResultCode } from '../../shared/contract/result-codes.ts';
import { decodeLandmarks } from '../descriptor.ts';
import type { Database } from '../schema.ts';
import { imageBytes } from './image-bytes.ts';
import { capturedAfter } from '../capture-order.ts';
import { parseJsonColumn } from '../json-column.ts';

/** A face box in the snapshot's upright pixels (what facestreaming stores in `stream_face.box`). */
export interface FaceBox {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** One face the engine found in a snapshot; the descriptor stays in the database. */
export interface ExportFace {
  index: number;
  /** Null when the stored box is not one (a damaged row): the face is listed, without a crop. */
  box: FaceBox | null;
  score: number;
  landmarks: { x: number; y: number }[] | null;
  quality: unknown;
  model: string;
}

export interface ExportSnapshot {
  id: number;
  lanId: string;
  captureTime: Date;
  result: ResultCode | null;
  distance: number | null;
  accuracy: number | null;
  /** In face order; empty for a snapshot without faces (only `refused` lists those). */
  faces: ExportFace[];
}

/** Where a page ends: the next page starts after this (capture_time, id). */
export interface ExportCursor {
  captureTime: Date;
  id: number;
}

export interface ExportFilter {
  /** Snapshots captured at or after this… */
  since: Date;
  /** …and at or before this. */
  until: Date;
  /**
   * False: the snapshots with faces (`stream_face` rows), whatever their result. True: the
   * snapshots judged and refused (any result but a success), with faces or without.
   */
  refused: boolean;
  lanId?: string;
}

export interface FaceExportRepository {
  /** The next `limit` snapshots in (capture_time, id) order with their faces, without image bytes. */
  snapshotPage(filter: ExportFilter, after: ExportCursor | undefined, limit: number): Promise<ExportSnapshot[]>;
  /** One snapshot's image bytes (null once retention has removed them). */
  image(id: number): Promise<Buffer | null>;
}

/** Results that say the employee was there; a judged snapshot with any other is refused. */
const SUCCESSES = RESULT_CODES.filter((c) => c.isSuccess).map((c) => c.code);

/** What `vigil export faces` (and the console's download) reads: snapshots and faces in pages, then images one at a time. */
export function faceExportRepository(db: Kysely<Database>): FaceExportRepository {
  return {
    async snapshotPage(f, after, limit) {
      let q = db
        .selectFrom('stream_img as s')
        .select(['s.id', 's.lan_id', 's.capture_time', 's.result', 's.distance', 's.accuracy'])
        .where('s.capture_time', '>=', f.since)
        .where('s.capture_time', '<=', f.until);
      if (f.lanId !== undefined) q = q.where('s.lan_id', '=', f.lanId);
      q = f.refused
        ? q.where('s.result', 'is not', null).where('s.result', 'not in', SUCCESSES)
        : q.where((eb) => eb.exists(eb.selectFrom('stream_face as f').select('f.face_index').whereRef('f.stream_img_id', '=', 's.id')));
      if (after) {
        q = q.where(capturedAfter(after.captureTime, after.id, { captureTime: 's.capture_time', id: 's.id' }));
      }
      const rows = await q.orderBy('s.capture_time').orderBy('s.id').limit(limit).execute();
      if (rows.length === 0) return [];
      const faces = await db
        .selectFrom('stream_face')
        .select(['stream_img_id', 'face_index', 'box', 'score', 'landmarks', 'quality', 'model'])
        .where(
          'stream_img_id',
          'in',
          rows.map((r) => r.id),
        )
        .orderBy('stream_img_id')
        .orderBy('face_index')
        .execute();
      const bySnapshot = new Map<number, ExportFace[]>();
      for (const r of faces) {
        const list = bySnapshot.get(Number(r.stream_img_id)) ?? [];
        list.push({ index: r.face_index, box: parseBox(r.box), score: r.score, landmarks: r.landmarks ? decodeLandmarks(r.landmarks) : null, quality: parseJsonColumn(r.quality), model: r.model });
        bySnapshot.set(Number(r.stream_img_id), list);
      }
      return rows.map((r) => ({
        id: Number(r.id),
        lanId: r.lan_id,
        captureTime: r.capture_time,
        result: r.result,
        distance: r.distance,
        accuracy: r.accuracy,
        faces: bySnapshot.get(Number(r.id)) ?? [],
      }));
    },
    image: (id) => imageBytes(db, 'stream_img', id),
  };
}

function parseBox(text: string): FaceBox | null {
  const b = parseJsonColumn(text) as Partial<Record<keyof FaceBox, unknown>> | null;
  if (!b || typeof b !== 'object') return null;
  const { x, y, width, height } = b;
  const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
  if (!finite(x) || !finite(y) || !finite(width) || !finite(height) || width <= 0 || height <= 0) return null;
  return { x, y, width, height };
}

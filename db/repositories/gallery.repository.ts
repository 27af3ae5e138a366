import { sql, type Kysely } from 'kysely';
import type { Database, ProposalStatus } from '../schema.ts';
import type { ResultCode } from '../../shared/contract/result-codes.ts';
import { decodeDescriptor, encodeDescriptor } from '../descriptor.ts';
import { writeAudit } from './audit.repository.ts';
import { galleryFaceRows } from './gallery-face-rows.ts';
import { lanIdCollation, lanIdColumnWeight, lanIdWeightOf, type LanIdCollation } from '../lan-id-weight.ts';
import { imageBytes } from './image-bytes.ts';
import { newestAttemptDetails } from './image-attempt.ts';
import { parseJsonObject } from '../json-column.ts';

/** A face the engine found in a snapshot, as `stream_face` (or, for a snapshot judged before it, `snapshot_face`) keeps it. */
export interface SnapshotFace {
  faceIndex: number;
  box: { x: number; y: number; width: number; height: number } | null;
  descriptor: Float32Array;
  model: string | null;
}

export interface ReviewSnapshot {
  id: number;
  lanId: string;
  captureTime: Date;
  status: string;
  result: ResultCode | null;
  numFaces: number | null;
  /** The face the verdict compared (its detail's `bestFace`). */
  bestFace: number | null;
  faces: SnapshotFace[];
}

export interface GalleryEntryRow {
  trainImgId: number;
  source: 'enrolment' | 'review';
  fromSnapshot: number | null;
  proposalId: number | null;
  proposedBy: string | null;
  approvedBy: string | null;
  addedAt: Date;
  model: string;
  descriptor: Float32Array;
  removed: { by: string; at: Date; reason: string | null } | null;
}

export interface ProposalRow {
  id: number;
  lanId: string;
  /** Null once retention deleted the snapshot. */
  streamImgId: number | null;
  faceIndex: number;
  proposedBy: string;
  proposedAt: Date;
  status: ProposalStatus;
  decidedBy: string | null;
  decidedAt: Date | null;
  reason: string | null;
  trainImgId: number | null;
}

type ProposalHeadColumns = { id: number; lan_id: string; stream_img_id: number | null; face_index: number; proposed_by: string; proposed_at: Date };

/** What a proposal says before anyone decided it, from its row (the approvals list shows only this). */
export function proposalHead(r: ProposalHeadColumns): Pick<ProposalRow, 'id' | 'lanId' | 'streamImgId' | 'faceIndex' | 'proposedBy' | 'proposedAt'> {
  return {
    id: Number(r.id),
    lanId: r.lan_id,
    streamImgId: r.stream_img_id === null ? null : Number(r.stream_img_id),
    faceIndex: r.face_index,
    proposedBy: r.proposed_by,
    proposedAt: r.proposed_at,
  };
}

/** The gallery's reads and the people's decisions; each change writes its audit entry in the same transaction. */
export interface GalleryRepository {
  /** The snapshot with its faces, when it is this employee's (`lanId` under the identity rule); `undefined` when there is no such snapshot. */
  snapshot(id: number): Promise<ReviewSnapshot | undefined>;
  /** Whether `a` and `b` are one identity to the database (the lan_id columns' rule). */
  sameEmployee(a: string, b: string): Promise<boolean>;
  /** Every gallery face of the employee (active and removed), newest first. */
  entries(lanId: string): Promise<GalleryEntryRow[]>;
  /**
   * A page's reads in one query each (the console's approvals list). The rows carry their
   * lan_id's weight (db/lan-id-weight.ts): group them by `lanIdWeights` of the names asked
   * for, as one query of each name would have matched them under the columns' collation.
   */
  lanIdWeights(lanIds: readonly string[]): Promise<string[]>;
  /** `entries` of several employees, newest first. */
  entriesOf(lanIds: readonly string[]): Promise<(GalleryEntryRow & { lanIdWeight: string })[]>;
  /** `threshold` of several employees: those that have one. */
  thresholdsOf(lanIds: readonly string[]): Promise<{ lanIdWeight: string; threshold: number; setBy: string; setAt: Date; reason: string | null }[]>;
  /** Of these snapshots, those that exist: whether the image is kept, and the faces (as `snapshot` gives them). */
  snapshotsOf(ids: readonly number[]): Promise<Map<number, { hasImage: boolean; faces: SnapshotFace[] }>>;
  proposals(lanId: string, opts?: { status?: ProposalStatus }): Promise<ProposalRow[]>;
  proposal(id: number): Promise<ProposalRow | undefined>;
  /** A pending proposal of the same snapshot face, if there is one. */
  pendingProposalOf(streamImgId: number, faceIndex: number): Promise<ProposalRow | undefined>;
  addProposal(p: { lanId: string; streamImgId: number; faceIndex: number; by: string }): Promise<number>;
  /**
   * The approval: a new `train_img` row (the face's image, the snapshot's capture time),
   * the proposal approved and pointing at it, in one transaction; false when the proposal
   * was no longer pending.
   */
  approve(p: { proposalId: number; by: string; image: Buffer; captureTime: Date }): Promise<{ trainImgId: number } | undefined>;
  reject(p: { proposalId: number; by: string; reason: string }): Promise<boolean>;
  /** The train_img row when it is a gallery face (result SUCCESS with a descriptor). */
  galleryFace(trainImgId: number): Promise<{ trainImgId: number; lanId: string; removed: boolean } | undefined>;
  remove(p: { trainImgId: number; lanId: string; by: string; reason: string | null }): Promise<boolean>;
  restore(p: { trainImgId: number; lanId: string; by: string }): Promise<boolean>;
  /** False when the same face was already recorded. */
  addNotThis(p: { lanId: string; streamImgId: number; face: SnapshotFace; by: string }): Promise<boolean>;
  threshold(lanId: string): Promise<{ threshold: number; setBy: string; setAt: Date; reason: string | null } | undefined>;
  /** `null` goes back to the default. */
  setThreshold(p: { lanId: string; threshold: number | null; by: string; reason: string | null }): Promise<void>;
  /** The employee's newest `limit` snapshots that were analysed, newest first, with their faces. */
  recentSnapshots(lanId: string, limit: number): Promise<ReviewSnapshot[]>;
  /** The faces said not to be the employee. */
  notThisFaces(lanId: string): Promise<{ streamImgId: number | null; faceIndex: number; descriptor: Float32Array; model: string }[]>;
  /** The image bytes of a snapshot. */
  snapshotImage(id: number): Promise<Buffer | null>;
}

type FaceRow = { stream_img_id: number; face_index: number; box: string; descriptor: Buffer; model: string };
type TraceRow = { stream_img_id: number; descriptor: Buffer | null };

export function galleryRepository(db: Kysely<Database>): GalleryRepository {
  let collation: Promise<LanIdCollation> | undefined;
  const toProposal = (r: ProposalHeadColumns & {
    status: ProposalStatus; decided_by: string | null; decided_at: Date | null; reason: string | null; train_img_id: number | null;
  }): ProposalRow => ({
    ...proposalHead(r),
    status: r.status,
    decidedBy: r.decided_by,
    decidedAt: r.decided_at,
    reason: r.reason,
    trainImgId: r.train_img_id === null ? null : Number(r.train_img_id),
  });

  /** Faces per snapshot: `stream_face`, else the best face's trace in `snapshot_face` (snapshots judged before stream_face). */
  async function facesOf(ids: number[]): Promise<Map<number, SnapshotFace[]>> {
    const out = new Map<number, SnapshotFace[]>();
    if (ids.length === 0) return out;
    const rows: FaceRow[] = await db
      .selectFrom('stream_face')
      .select(['stream_img_id', 'face_index', 'box', 'descriptor', 'model'])
      .where('stream_img_id', 'in', ids)
      .orderBy('stream_img_id')
      .orderBy('face_index')
      .execute();
    for (const r of rows) {
      const list = out.get(Number(r.stream_img_id)) ?? [];
      list.push({ faceIndex: r.face_index, box: JSON.parse(r.box), descriptor: decodeDescriptor(r.descriptor), model: r.model });
      out.set(Number(r.stream_img_id), list);
    }
    const missing = ids.filter((id) => !out.has(id));
    if (missing.length > 0) {
      const traces: TraceRow[] = await db.selectFrom('snapshot_face').select(['stream_img_id', 'descriptor']).where('stream_img_id', 'in', missing).execute();
      for (const t of traces) {
        if (t.descriptor) out.set(Number(t.stream_img_id), [{ faceIndex: 0, box: null, descriptor: decodeDescriptor(t.descriptor), model: null }]);
      }
    }
    return out;
  }

  /** The gallery faces of these employees, newest first, each with its lan_id's weight. */
  async function entryRows(lanIds: readonly string[]): Promise<(GalleryEntryRow & { lanIdWeight: string })[]> {
    const rows = await galleryFaceRows(db)
      .leftJoin('gallery_proposal as p', 'p.train_img_id', 'd.train_img_id')
      .select([
        'd.train_img_id', 'd.model', 'd.descriptor', 'd.created_at', 'p.id as proposal_id', 'p.stream_img_id', 'p.proposed_by', 'p.decided_by',
        'r.removed_by', 'r.removed_at', 'r.reason as removed_reason',
        lanIdColumnWeight('d.lan_id').as('lan_id_weight'),
      ])
      .where('d.lan_id', 'in', [...lanIds])
      .orderBy('d.train_img_id', 'desc')
      .execute();
    return rows.map((r) => ({
      lanIdWeight: r.lan_id_weight,
      trainImgId: Number(r.train_img_id),
      source: r.proposal_id === null ? ('enrolment' as const) : ('review' as const),
      fromSnapshot: r.stream_img_id === null ? null : Number(r.stream_img_id),
      proposalId: r.proposal_id === null ? null : Number(r.proposal_id),
      proposedBy: r.proposed_by,
      approvedBy: r.decided_by,
      addedAt: r.created_at,
      model: r.model,
      descriptor: decodeDescriptor(r.descriptor),
      removed: r.removed_by === null ? null : { by: r.removed_by, at: r.removed_at!, reason: r.removed_reason },
    }));
  }

  const snapshotColumns = ['id', 'lan_id', 'capture_time', 'status', 'result', 'num_faces'] as const;

  return {
    async snapshot(id) {
      const r = await db.selectFrom('stream_img').select(snapshotColumns).where('id', '=', id).executeTakeFirst();
      if (!r) return undefined;
      // The verdict's best face, from the newest finished attempt's detail.
      const [faces, details] = await Promise.all([facesOf([id]), newestAttemptDetails(db, 'stream', [id])]);
      const best = parseJsonObject(details.get(id) ?? null)?.bestFace;
      const bestFace = typeof best === 'number' ? best : null;
      return { id: Number(r.id), lanId: r.lan_id, captureTime: r.capture_time, status: r.status, result: r.result, numFaces: r.num_faces, bestFace, faces: faces.get(id) ?? [] };
    },
    async sameEmployee(a, b) {
      // Under the lan_id columns' collation, as every query of a lan_id compares it.
      const c = await (collation ??= lanIdCollation(db));
      const r = await sql<{ same: number }>`SELECT (${lanIdWeightOf(a, c)} = ${lanIdWeightOf(b, c)}) AS same`.execute(db);
      return Number(r.rows[0]?.same ?? 0) === 1;
    },
    async entries(lanId) {
      return (await entryRows([lanId])).map(({ lanIdWeight: _, ...e }) => e);
    },
    async entriesOf(lanIds) {
      return lanIds.length === 0 ? [] : entryRows(lanIds);
    },
    async lanIdWeights(lanIds) {
      if (lanIds.length === 0) return [];
      const c = await (collation ??= lanIdCollation(db));
      const r = await sql<Record<string, string>>`SELECT ${sql.join(lanIds.map((l, i) => sql`${lanIdWeightOf(l, c)} AS ${sql.ref(`w${i}`)}`))}`.execute(db);
      return lanIds.map((_, i) => r.rows[0]![`w${i}`]!);
    },
    async thresholdsOf(lanIds) {
      if (lanIds.length === 0) return [];
      const rows = await db.selectFrom('employee_threshold').selectAll().select(lanIdColumnWeight().as('lan_id_weight')).where('lan_id', 'in', [...lanIds]).execute();
      return rows.map((r) => ({ lanIdWeight: r.lan_id_weight, threshold: r.threshold, setBy: r.set_by, setAt: r.set_at, reason: r.reason }));
    },
    async snapshotsOf(ids) {
      const out = new Map<number, { hasImage: boolean; faces: SnapshotFace[] }>();
      if (ids.length === 0) return out;
      const [rows, faces] = await Promise.all([
        db.selectFrom('stream_img').select(['id', sql<number>`image IS NOT NULL`.as('has_image')]).where('id', 'in', [...ids]).execute(),
        facesOf([...new Set(ids)]),
      ]);
      for (const r of rows) out.set(Number(r.id), { hasImage: Number(r.has_image) === 1, faces: faces.get(Number(r.id)) ?? [] });
      return out;
    },
    async proposals(lanId, opts = {}) {
      let q = db.selectFrom('gallery_proposal').selectAll().where('lan_id', '=', lanId);
      if (opts.status) q = q.where('status', '=', opts.status);
      return (await q.orderBy('id', 'desc').execute()).map(toProposal);
    },
    async proposal(id) {
      const r = await db.selectFrom('gallery_proposal').selectAll().where('id', '=', id).executeTakeFirst();
      return r && toProposal(r);
    },
    async pendingProposalOf(streamImgId, faceIndex) {
      const r = await db
        .selectFrom('gallery_proposal')
        .selectAll()
        .where('stream_img_id', '=', streamImgId)
        .where('face_index', '=', faceIndex)
        .where('status', '=', 'pending')
        .executeTakeFirst();
      return r && toProposal(r);
    },
    async addProposal(p) {
      return db.transaction().execute(async (trx) => {
        const r = await trx.insertInto('gallery_proposal').values({ lan_id: p.lanId, stream_img_id: p.streamImgId, face_index: p.faceIndex, proposed_by: p.by }).executeTakeFirstOrThrow();
        const id = Number(r.insertId);
        await writeAudit(trx, { actor: p.by, action: 'gallery.propose', lanId: p.lanId, subject: `proposal:${id}`, after: { status: 'pending', streamImgId: p.streamImgId, faceIndex: p.faceIndex } });
        return id;
      });
    },
    async approve(p) {
      return db.transaction().execute(async (trx) => {
        const cur = await trx.selectFrom('gallery_proposal').selectAll().where('id', '=', p.proposalId).forUpdate().executeTakeFirst();
        if (!cur || cur.status !== 'pending') return undefined;
        const ins = await trx.insertInto('train_img').values({ lan_id: cur.lan_id, image: p.image, capture_time: p.captureTime }).executeTakeFirstOrThrow();
        const trainImgId = Number(ins.insertId);
        const decidedAt = new Date();
        await trx.updateTable('gallery_proposal').set({ status: 'approved', decided_by: p.by, decided_at: decidedAt, train_img_id: trainImgId }).where('id', '=', p.proposalId).execute();
        await writeAudit(trx, {
          actor: p.by,
          action: 'gallery.approve',
          lanId: cur.lan_id,
          subject: `proposal:${p.proposalId}`,
          before: { status: 'pending', proposedBy: cur.proposed_by },
          after: { status: 'approved', trainImgId },
        });
        return { trainImgId };
      });
    },
    async reject(p) {
      return db.transaction().execute(async (trx) => {
        const cur = await trx.selectFrom('gallery_proposal').selectAll().where('id', '=', p.proposalId).forUpdate().executeTakeFirst();
        if (!cur || cur.status !== 'pending') return false;
        await trx.updateTable('gallery_proposal').set({ status: 'rejected', decided_by: p.by, decided_at: new Date(), reason: p.reason }).where('id', '=', p.proposalId).execute();
        await writeAudit(trx, { actor: p.by, action: 'gallery.reject', lanId: cur.lan_id, subject: `proposal:${p.proposalId}`, before: { status: 'pending' }, after: { status: 'rejected', reason: p.reason } });
        return true;
      });
    },
    async galleryFace(trainImgId) {
      const r = await galleryFaceRows(db).select(['d.train_img_id', 't.lan_id', 'r.removed_by']).where('d.train_img_id', '=', trainImgId).executeTakeFirst();
      return r && { trainImgId: Number(r.train_img_id), lanId: r.lan_id, removed: r.removed_by !== null };
    },
    async remove(p) {
      return db.transaction().execute(async (trx) => {
        const done = await trx.selectFrom('gallery_removal').select('train_img_id').where('train_img_id', '=', p.trainImgId).forUpdate().executeTakeFirst();
        if (done) return false;
        await trx.insertInto('gallery_removal').values({ train_img_id: p.trainImgId, lan_id: p.lanId, removed_by: p.by, reason: p.reason }).execute();
        await writeAudit(trx, { actor: p.by, action: 'gallery.remove', lanId: p.lanId, subject: `train_img:${p.trainImgId}`, before: { active: true }, after: { active: false, reason: p.reason } });
        return true;
      });
    },
    async restore(p) {
      return db.transaction().execute(async (trx) => {
        const cur = await trx.selectFrom('gallery_removal').selectAll().where('train_img_id', '=', p.trainImgId).forUpdate().executeTakeFirst();
        if (!cur) return false;
        await trx.deleteFrom('gallery_removal').where('train_img_id', '=', p.trainImgId).execute();
        await writeAudit(trx, {
          actor: p.by,
          action: 'gallery.restore',
          lanId: p.lanId,
          subject: `train_img:${p.trainImgId}`,
          before: { active: false, removedBy: cur.removed_by, reason: cur.reason },
          after: { active: true },
        });
        return true;
      });
    },
    async addNotThis(p) {
      return db.transaction().execute(async (trx) => {
        const dup = await trx
          .selectFrom('not_this_face')
          .select('id')
          .where('lan_id', '=', p.lanId)
          .where('stream_img_id', '=', p.streamImgId)
          .where('face_index', '=', p.face.faceIndex)
          .forUpdate()
          .executeTakeFirst();
        if (dup) return false;
        await trx
          .insertInto('not_this_face')
          .values({ lan_id: p.lanId, stream_img_id: p.streamImgId, face_index: p.face.faceIndex, model: p.face.model ?? 'unknown', descriptor: encodeDescriptor(p.face.descriptor), recorded_by: p.by })
          .execute();
        await writeAudit(trx, { actor: p.by, action: 'gallery.not-this', lanId: p.lanId, subject: `stream_img:${p.streamImgId}`, after: { faceIndex: p.face.faceIndex } });
        return true;
      });
    },
    async threshold(lanId) {
      const r = await db.selectFrom('employee_threshold').selectAll().where('lan_id', '=', lanId).executeTakeFirst();
      return r && { threshold: r.threshold, setBy: r.set_by, setAt: r.set_at, reason: r.reason };
    },
    async setThreshold(p) {
      await db.transaction().execute(async (trx) => {
        const cur = await trx.selectFrom('employee_threshold').select(['threshold']).where('lan_id', '=', p.lanId).forUpdate().executeTakeFirst();
        if (p.threshold === null) await trx.deleteFrom('employee_threshold').where('lan_id', '=', p.lanId).execute();
        else if (cur) await trx.updateTable('employee_threshold').set({ threshold: p.threshold, set_by: p.by, set_at: new Date(), reason: p.reason }).where('lan_id', '=', p.lanId).execute();
        else await trx.insertInto('employee_threshold').values({ lan_id: p.lanId, threshold: p.threshold, set_by: p.by, reason: p.reason }).execute();
        await writeAudit(trx, { actor: p.by, action: 'gallery.threshold', lanId: p.lanId, subject: `threshold`, before: { threshold: cur?.threshold ?? null }, after: { threshold: p.threshold, reason: p.reason } });
      });
    },
    async recentSnapshots(lanId, limit) {
      const rows = await db
        .selectFrom('stream_img')
        .select(snapshotColumns)
        .where('lan_id', '=', lanId)
        .where('status', '=', 'Y')
        .orderBy('capture_time', 'desc')
        .orderBy('id', 'desc')
        .limit(limit)
        .execute();
      const faces = await facesOf(rows.map((r) => Number(r.id)));
      return rows.map((r) => ({ id: Number(r.id), lanId: r.lan_id, captureTime: r.capture_time, status: r.status, result: r.result, numFaces: r.num_faces, bestFace: null, faces: faces.get(Number(r.id)) ?? [] }));
    },
    async notThisFaces(lanId) {
      const rows = await db.selectFrom('not_this_face').select(['stream_img_id', 'face_index', 'descriptor', 'model']).where('lan_id', '=', lanId).orderBy('id', 'desc').execute();
      return rows.map((r) => ({ streamImgId: r.stream_img_id === null ? null : Number(r.stream_img_id), faceIndex: r.face_index, descriptor: decodeDescriptor(r.descriptor), model: r.model }));
    },
    snapshotImage: (id) => imageBytes(db, 'stream_img', id),
  };
}


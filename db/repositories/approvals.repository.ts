import type { Kysely } from 'kysely';
import type { Database } from '../schema.ts';
import { proposalHead } from './gallery.repository.ts';
import { newestAttemptDetails } from './image-attempt.ts';
import { parseJsonObject } from '../json-column.ts';

/** A proposal waiting for a team lead, as the approvals list shows it: a proposal row without its decision. */
export type PendingProposal = ReturnType<typeof proposalHead>;

/** An enrolment facetraining refused as `DUPLICATE_IDENTITY`, with the face it was close to. */
export interface RefusedDuplicate {
  trainImgId: number;
  lanId: string;
  captureTime: Date;
  processedTime: Date | null;
  /** From its newest DUPLICATE_IDENTITY attempt's detail; null without one. */
  duplicateOf: { lanId: string; trainImgId: number; distance: number } | null;
  /** The bound the check used (matchThreshold − duplicateMargin), from the same detail. */
  bound: number | null;
}

/**
 * The console's approvals lists (issue 28): both oldest first by id (the one waiting
 * longest comes first), paged by keyset (`after` the last id shown), never OFFSET. The
 * proposals read `gallery_proposal_status` (status, id) or, with a lan_id,
 * `gallery_proposal_lan` (lan_id, status, id); the duplicates `train_img_status_result`
 * (status, result, and the primary key after them).
 */
export interface ApprovalsRepository {
  pendingProposals(f: ListFilter): Promise<PendingProposal[]>;
  refusedDuplicates(f: ListFilter): Promise<RefusedDuplicate[]>;
}

type DuplicateDetail = { duplicateOf?: { lanId?: unknown; trainImgId?: unknown; distance?: unknown }; duplicateCheck?: { bound?: unknown } };

type ListFilter = { lanId?: string; after?: number; limit: number };

/** The pending proposals' statement: by id on (status, id) or (lan_id, status, id), never OFFSET. */
export function pendingProposalsQuery(db: Kysely<Database>, f: ListFilter) {
  let q = db
    .selectFrom('gallery_proposal')
    .select(['id', 'lan_id', 'stream_img_id', 'face_index', 'proposed_by', 'proposed_at'])
    .where('status', '=', 'pending');
  if (f.lanId !== undefined) q = q.where('lan_id', '=', f.lanId);
  if (f.after !== undefined) q = q.where('id', '>', f.after);
  return q.orderBy('id').limit(f.limit);
}

/** The refused duplicates' statement: by id on (status, result) and the primary key after them. */
export function refusedDuplicatesQuery(db: Kysely<Database>, f: ListFilter) {
  let q = db
    .selectFrom('train_img')
    .select(['id', 'lan_id', 'capture_time', 'processed_time'])
    .where('status', '=', 'F')
    .where('result', '=', 'DUPLICATE_IDENTITY');
  if (f.lanId !== undefined) q = q.where('lan_id', '=', f.lanId);
  if (f.after !== undefined) q = q.where('id', '>', f.after);
  return q.orderBy('id').limit(f.limit);
}

export function approvalsRepository(db: Kysely<Database>): ApprovalsRepository {
  return {
    async pendingProposals(f) {
      return (await pendingProposalsQuery(db, f).execute()).map(proposalHead);
    },
    async refusedDuplicates(f) {
      const rows = await refusedDuplicatesQuery(db, f).execute();
      if (rows.length === 0) return [];
      const ids = rows.map((r) => Number(r.id));
      // A detail that is not JSON names no one: shown without the other employee.
      const attempts = await newestAttemptDetails(db, 'train', ids, { result: 'DUPLICATE_IDENTITY' });
      const details = new Map<number, DuplicateDetail>();
      for (const [id, text] of attempts) {
        const d = parseJsonObject(text);
        if (d) details.set(id, d as unknown as DuplicateDetail);
      }
      return rows.map((r) => {
        const d = details.get(Number(r.id));
        const of = d?.duplicateOf;
        const bound = d?.duplicateCheck?.bound;
        return {
          trainImgId: Number(r.id),
          lanId: r.lan_id,
          captureTime: r.capture_time,
          processedTime: r.processed_time,
          duplicateOf: of && typeof of.lanId === 'string' ? { lanId: of.lanId, trainImgId: Number(of.trainImgId), distance: Number(of.distance) } : null,
          bound: typeof bound === 'number' ? bound : null,
        };
      });
    },
  };
}

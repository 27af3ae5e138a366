import { sql, type Kysely } from 'kysely';
import type { Database } from '../schema.ts';
import { activeGalleryFaceRows } from './gallery-face-rows.ts';
import { decodeDescriptor } from '../descriptor.ts';
import { lanIdColumnWeight } from '../lan-id-weight.ts';
import { distinctPairExists } from './identity.repository.ts';

/** A stored descriptor as the gallery index loads it. */
export interface GalleryFaceRow {
  descriptorId: number;
  trainImgId: number;
  lanId: string;
  /** The server's weight of the lan_id (db/lan-id-weight.ts). */
  lanIdWeight: string;
  descriptor: Float32Array;
}

/** A face of another employee that is still in the gallery and not accepted as a different person. */
export interface ConfirmedFace {
  descriptorId: number;
  trainImgId: number;
  lanId: string;
}

/** What the duplicate-identity check reads (shared/gallery/duplicate-check.ts). */
export interface GalleryFacesRepository {
  /** Descriptors of `model` with an id above `afterId` or among `alsoIds`, by id, at most `limit`. */
  descriptorsAfter(model: string, afterId: number, alsoIds: readonly number[], limit: number): Promise<GalleryFaceRow[]>;
  /** The train_img ids taken out of the gallery. */
  removedTrainImgIds(): Promise<number[]>;
  /**
   * Of these descriptors, those that are still a gallery face (the descriptor and its
   * train_img exist, SUCCESS, not removed) of an employee other than `lanId` (under the
   * identity rule) whom no team lead has accepted as a different person from `lanId`.
   */
  confirmOthers(descriptorIds: readonly number[], lanId: string, model: string): Promise<ConfirmedFace[]>;
}

export function galleryFacesRepository(db: Kysely<Database>): GalleryFacesRepository {
  return {
    async descriptorsAfter(model, afterId, alsoIds, limit) {
      const rows = await db
        .selectFrom('face_descriptor')
        .select(['id', 'train_img_id', 'lan_id', lanIdColumnWeight().as('lan_id_weight'), 'descriptor'])
        .where('model', '=', model)
        .where((eb) => (alsoIds.length > 0 ? eb.or([eb('id', '>', afterId), eb('id', 'in', [...alsoIds])]) : eb('id', '>', afterId)))
        .orderBy('id')
        .limit(limit)
        .execute();
      return rows.map((r) => ({
        descriptorId: Number(r.id),
        trainImgId: Number(r.train_img_id),
        lanId: r.lan_id,
        lanIdWeight: r.lan_id_weight,
        descriptor: decodeDescriptor(r.descriptor),
      }));
    },
    async removedTrainImgIds() {
      const rows = await db.selectFrom('gallery_removal').select('train_img_id').execute();
      return rows.map((r) => Number(r.train_img_id));
    },
    async confirmOthers(descriptorIds, lanId, model) {
      if (descriptorIds.length === 0) return [];
      const rows = await activeGalleryFaceRows(db)
        .select(['d.id', 't.id as train_img_id', 't.lan_id'])
        .where('d.id', 'in', [...descriptorIds])
        .where('d.model', '=', model)
        // The column's collation decides: a spelling that differs only in letter case is the same employee.
        .where('t.lan_id', '<>', lanId)
        .where((eb) => eb.not(distinctPairExists(eb, sql.ref('t.lan_id'), sql.val(lanId))))
        .execute();
      return rows.map((r) => ({ descriptorId: Number(r.id), trainImgId: Number(r.train_img_id), lanId: r.lan_id }));
    },
  };
}

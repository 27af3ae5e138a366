import type { Kysely } from 'kysely';
import type { Database } from '../schema.ts';

/**
 * The gallery's faces (CONTRACT.md, "Gallery"), written once: a stored descriptor (`d`)
 * whose `train_img` (`t`) is SUCCESS, with its removal (`r`) when there is one.
 */
export function galleryFaceRows(db: Kysely<Database>) {
  return db
    .selectFrom('face_descriptor as d')
    .innerJoin('train_img as t', 't.id', 'd.train_img_id')
    .leftJoin('gallery_removal as r', 'r.train_img_id', 'd.train_img_id')
    .where('t.result', '=', 'SUCCESS');
}

/** The faces compared: those not removed. */
export function activeGalleryFaceRows(db: Kysely<Database>) {
  return galleryFaceRows(db).where('r.train_img_id', 'is', null);
}

import { requireActor } from '../accounts/actor.ts';
import { PermanentError } from '../errors.ts';
import type { GalleryDeps } from './gallery-deps.ts';
import { keptReason } from './reason.ts';

/** A team lead takes a face out of the gallery: the row stays for the audit and is no longer compared. */
export async function removeFace(deps: Pick<GalleryDeps, 'repo' | 'users'>, p: { trainImgId: number; by: string; reason?: string }): Promise<void> {
  const actor = await requireActor(deps.users, p.by, 'teamlead');
  const face = await deps.repo.galleryFace(p.trainImgId);
  if (!face) throw new PermanentError('GALLERY_FACE_UNKNOWN', `refused: train_img ${p.trainImgId} is not a gallery face (no accepted enrolment with that id) (GALLERY_FACE_UNKNOWN)`);
  if (face.removed || !(await deps.repo.remove({ trainImgId: face.trainImgId, lanId: face.lanId, by: actor.name, reason: keptReason(p.reason) }))) {
    throw new PermanentError('GALLERY_FACE_REMOVED', `refused: train_img ${p.trainImgId} is already out of the gallery (GALLERY_FACE_REMOVED)`);
  }
}

/** Undo of a removal. */
export async function restoreFace(deps: Pick<GalleryDeps, 'repo' | 'users'>, p: { trainImgId: number; by: string }): Promise<void> {
  const actor = await requireActor(deps.users, p.by, 'teamlead');
  const face = await deps.repo.galleryFace(p.trainImgId);
  if (!face) throw new PermanentError('GALLERY_FACE_UNKNOWN', `refused: train_img ${p.trainImgId} is not a gallery face (GALLERY_FACE_UNKNOWN)`);
  if (!face.removed || !(await deps.repo.restore({ trainImgId: face.trainImgId, lanId: face.lanId, by: actor.name }))) {
    throw new PermanentError('GALLERY_FACE_ACTIVE', `refused: train_img ${p.trainImgId} is in the gallery, not removed (GALLERY_FACE_ACTIVE)`);
  }
}

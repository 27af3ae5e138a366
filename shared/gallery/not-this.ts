import { requireActor } from '../accounts/actor.ts';
import { PermanentError } from '../errors.ts';
import type { GalleryDeps } from './gallery-deps.ts';
import { faceOfSnapshot, snapshotOf } from './snapshot-face.ts';

/**
 * A supervisor records that a snapshot's face is not the employee: a later snapshot whose
 * face is closer to it than to the gallery is not a success for them (facestreaming).
 */
export async function notThisEmployee(deps: Pick<GalleryDeps, 'repo' | 'users'>, p: { lanId: string; streamImgId: number; faceIndex?: number; by: string }): Promise<{ faceIndex: number }> {
  const actor = await requireActor(deps.users, p.by, 'supervisor');
  const snapshot = await snapshotOf(deps.repo, p.lanId, p.streamImgId);
  const face = faceOfSnapshot(snapshot, p.faceIndex);
  if (face.model === null) {
    throw new PermanentError('FACE_MODEL_UNKNOWN', `refused: stream_img ${snapshot.id} was judged before faces were kept with their model; its face cannot be compared safely (FACE_MODEL_UNKNOWN)`);
  }
  if (!(await deps.repo.addNotThis({ lanId: snapshot.lanId, streamImgId: snapshot.id, face, by: actor.name }))) {
    throw new PermanentError('NOT_THIS_EXISTS', `refused: face ${face.faceIndex} of stream_img ${snapshot.id} is already recorded as not this employee (NOT_THIS_EXISTS)`);
  }
  return { faceIndex: face.faceIndex };
}

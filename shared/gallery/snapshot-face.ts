import type { GalleryRepository, ReviewSnapshot, SnapshotFace } from '../../db/repositories/gallery.repository.ts';
import { PermanentError } from '../errors.ts';

/** The snapshot, when it exists, is this employee's and was judged with a face. */
export async function snapshotOf(repo: Pick<GalleryRepository, 'snapshot' | 'sameEmployee'>, lanId: string, streamImgId: number): Promise<ReviewSnapshot> {
  const s = await repo.snapshot(streamImgId);
  if (!s) throw new PermanentError('SNAPSHOT_UNKNOWN', `refused: there is no stream_img ${streamImgId} (SNAPSHOT_UNKNOWN)`);
  if (!(await repo.sameEmployee(s.lanId, lanId))) {
    throw new PermanentError('SNAPSHOT_OTHER_EMPLOYEE', `refused: stream_img ${streamImgId} is not a snapshot of ${JSON.stringify(lanId)} (SNAPSHOT_OTHER_EMPLOYEE)`);
  }
  if (s.status !== 'Y') throw new PermanentError('SNAPSHOT_NOT_JUDGED', `refused: stream_img ${streamImgId} has no verdict on a face yet (status ${s.status}) (SNAPSHOT_NOT_JUDGED)`);
  if (s.faces.length === 0) throw new PermanentError('SNAPSHOT_NO_FACE', `refused: no face was found in stream_img ${streamImgId} (SNAPSHOT_NO_FACE)`);
  return s;
}

/** The face asked for, else the one the verdict compared, else the only one. */
export function faceOfSnapshot(s: ReviewSnapshot, faceIndex?: number): SnapshotFace {
  const index = faceIndex ?? s.bestFace ?? (s.faces.length === 1 ? s.faces[0]!.faceIndex : undefined);
  if (index === undefined) throw new PermanentError('FACE_REQUIRED', `refused: stream_img ${s.id} shows ${s.faces.length} faces; say which with --face (FACE_REQUIRED)`);
  const face = s.faces.find((f) => f.faceIndex === index);
  if (!face) throw new PermanentError('FACE_UNKNOWN', `refused: stream_img ${s.id} has no face ${index} (faces ${s.faces.map((f) => f.faceIndex).join(', ')}) (FACE_UNKNOWN)`);
  return face;
}

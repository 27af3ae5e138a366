import type { GalleryEntryRow, ReviewSnapshot } from '../../db/repositories/gallery.repository.ts';
import { decideAgainstGallery, type VerificationResult } from '../face/verification.ts';

/** With no gallery face left, facestreaming answers `NO_TRAINING_IMAGE`. */
export type RescoredResult = VerificationResult | 'NO_TRAINING_IMAGE';

type Described = { descriptor: ArrayLike<number> };

export interface Rescored {
  streamImgId: number;
  result: RescoredResult;
  distance: number | null;
  /** Index into the gallery given. */
  galleryFace: number | null;
}

/**
 * A snapshot's faces against a gallery as facestreaming compares them (`decideAgainstGallery`),
 * with the faces of `model` only: descriptors of different models are not comparable. The
 * history rules that come after (impersonation, absence) are not replayed. Undefined when
 * the snapshot kept no face of that model (judged before faces were kept with their model).
 */
export function rescore(s: ReviewSnapshot, model: string, gallery: Described[], notThis: Described[], threshold: number): Rescored | undefined {
  const faces = s.faces.filter((f) => f.model === model);
  if (faces.length === 0 || faces.length < s.faces.length) return undefined;
  if (gallery.length === 0) return { streamImgId: s.id, result: 'NO_TRAINING_IMAGE', distance: null, galleryFace: null };
  const d = decideAgainstGallery(gallery, faces, threshold, notThis);
  return { streamImgId: s.id, result: d.result, distance: d.distance, galleryFace: d.galleryFace };
}

/** How close a face is to its nearest gallery face. */
export function distanceToGallery(gallery: Described[], descriptor: ArrayLike<number>): number {
  return decideAgainstGallery(gallery, [{ descriptor }], Infinity).distance!;
}

/** The faces facestreaming compares now: the newest `size` active ones of `model`. */
export function activeFaces(entries: GalleryEntryRow[], size: number): GalleryEntryRow[] {
  return entries.filter((e) => e.removed === null).slice(0, size);
}

/** The model of the newest active face: what the gallery is compared in. */
export function galleryModel(entries: GalleryEntryRow[]): string | undefined {
  return entries.find((e) => e.removed === null)?.model;
}

export const isMatch = (r: string | null | undefined) => r === 'SUCCESS' || r === 'SUCCESS_MULTIPLE_FACES';

import type { StreamResult } from '../contract/result-codes.ts';
import { descriptorDistance } from './geometry.ts';

export type VerificationResult = Extract<StreamResult, 'SUCCESS' | 'SUCCESS_MULTIPLE_FACES' | 'UNKNOWN_PERSON' | 'UNKNOWN_MULTIPLE_FACES' | 'NO_FACES_FOUND'>;

export interface VerificationDecision {
  result: VerificationResult;
  /** Distance of the best-matching face, or null with no face. */
  distance: number | null;
  /** Index of the best-matching face. */
  bestFace: number | null;
}

export interface GalleryDecision extends VerificationDecision {
  /** Index of the gallery face the best face is closest to, or null with no face. */
  galleryFace: number | null;
  /**
   * A face that would have matched is closer to a face a supervisor said is not the
   * employee than to the gallery: which probe face, which not-this face, and both distances.
   */
  notThis?: { face: number; notThisFace: number; distance: number; galleryDistance: number };
}

type Described = { descriptor: ArrayLike<number> };

/** Every face of the probe against the enrolment; the closest one decides. */
export function decideVerification(enrolment: ArrayLike<number>, probeFaces: Described[], threshold: number): VerificationDecision {
  const { result, distance, bestFace } = decideAgainstGallery([{ descriptor: enrolment }], probeFaces, threshold);
  return { result, distance, bestFace };
}

/**
 * Every face of the probe against every face of the employee's gallery: a probe face's
 * distance is to its closest gallery face, and the closest probe face decides. A probe face
 * closer to a face a supervisor said is not the employee (`notThis`) than to the gallery
 * cannot be the employee: another face of the snapshot may still match, else the snapshot
 * is not a success and `notThis` says why.
 */
export function decideAgainstGallery(gallery: Described[], probeFaces: Described[], threshold: number, notThis: Described[] = []): GalleryDecision {
  if (probeFaces.length === 0 || gallery.length === 0) return { result: 'NO_FACES_FOUND', distance: null, bestFace: null, galleryFace: null };
  const faces = probeFaces.map((f, i) => {
    const g = nearest(gallery, f.descriptor);
    const n = nearest(notThis, f.descriptor);
    return { i, gallery: g, notThis: n, vetoed: n.distance < g.distance };
  });
  const byGallery = (a: (typeof faces)[number], b: (typeof faces)[number]) => a.gallery.distance - b.gallery.distance || a.i - b.i;
  const best = [...faces].sort(byGallery)[0]!;
  const eligible = faces.filter((f) => !f.vetoed).sort(byGallery)[0];
  const several = probeFaces.length > 1;
  if (eligible && eligible.gallery.distance <= threshold) {
    return { result: several ? 'SUCCESS_MULTIPLE_FACES' : 'SUCCESS', distance: round(eligible.gallery.distance), bestFace: eligible.i, galleryFace: eligible.gallery.index };
  }
  const decision: GalleryDecision = { result: several ? 'UNKNOWN_MULTIPLE_FACES' : 'UNKNOWN_PERSON', distance: round(best.gallery.distance), bestFace: best.i, galleryFace: best.gallery.index };
  const turnedAway = faces.filter((f) => f.vetoed && f.gallery.distance <= threshold).sort(byGallery)[0];
  if (turnedAway) {
    decision.notThis = { face: turnedAway.i, notThisFace: turnedAway.notThis.index, distance: round(turnedAway.notThis.distance), galleryDistance: round(turnedAway.gallery.distance) };
  }
  return decision;
}

function nearest(set: Described[], d: ArrayLike<number>): { index: number; distance: number } {
  let index = -1;
  let distance = Infinity;
  set.forEach((s, i) => {
    const x = descriptorDistance(s.descriptor, d);
    if (x < distance) {
      distance = x;
      index = i;
    }
  });
  return { index, distance };
}

const round = (d: number) => Math.round(d * 10_000) / 10_000;

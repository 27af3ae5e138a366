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

/** Every face of the probe against the enrolment; the closest one decides. */
export function decideVerification(enrolment: ArrayLike<number>, probeFaces: { descriptor: ArrayLike<number> }[], threshold: number): VerificationDecision {
  if (probeFaces.length === 0) return { result: 'NO_FACES_FOUND', distance: null, bestFace: null };
  let bestFace = 0;
  let distance = Infinity;
  probeFaces.forEach((f, i) => {
    const d = descriptorDistance(enrolment, f.descriptor);
    if (d < distance) {
      distance = d;
      bestFace = i;
    }
  });
  const match = distance <= threshold;
  const several = probeFaces.length > 1;
  const result: VerificationResult = match ? (several ? 'SUCCESS_MULTIPLE_FACES' : 'SUCCESS') : several ? 'UNKNOWN_MULTIPLE_FACES' : 'UNKNOWN_PERSON';
  return { result, distance: Math.round(distance * 10_000) / 10_000, bestFace };
}

import type { TrainResult } from '../contract/result-codes.ts';
import type { AnalyzedFace, FaceAnalysis } from './engine.ts';
import { qualityReasons, type QualityBounds, type QualityReason } from './quality.ts';

export interface EnrolmentDecision {
  result: TrainResult;
  /** The face to store (SUCCESS only). */
  face?: AnalyzedFace;
  reasons: QualityReason[];
}

/**
 * The enrolment rule: exactly one face, and that face within every quality bound.
 * Pure, so each refusal is testable without a model.
 */
export function decideEnrolment(analysis: Pick<FaceAnalysis, 'faces'>, bounds: QualityBounds): EnrolmentDecision {
  if (analysis.faces.length === 0) return { result: 'NO_FACES_FOUND', reasons: [] };
  if (analysis.faces.length > 1) return { result: 'MULTIPLE_FACES', reasons: [] };
  const face = analysis.faces[0]!;
  const reasons = qualityReasons(face.quality, bounds);
  return reasons.length > 0 ? { result: 'LOW_QUALITY', reasons } : { result: 'SUCCESS', face, reasons };
}

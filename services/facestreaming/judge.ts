import { createHash } from 'node:crypto';
import type { EnrolmentLookup, FacestreamingRepository, SnapshotRow, SnapshotVerdict } from '../../db/repositories/facestreaming.repository.ts';
import type { AlertRoute } from '../../shared/contract/messages.ts';
import { analyzeOrInvalid, type FaceAnalyzer, type ImageAnalysis } from '../../shared/face/face-analyzer.ts';
import type { ImpersonationTolerances } from '../../shared/face/impersonation.ts';
import { normalizeLandmarks } from '../../shared/face/geometry.ts';
import { judgeImpersonation } from '../../shared/face/impersonation.ts';
import { judgeAbsence, VERDICT_RESULTS } from '../../shared/face/presence.ts';
import { decideVerification } from '../../shared/face/verification.ts';
import { buildAlert } from './alerts.ts';
import type { CurrentEnrolment } from './enrolment-model.ts';

export type Judgement = Omit<SnapshotVerdict, 'attemptId'>;

/**
 * What the face engine made of one snapshot's bytes, kept without the bytes: their sha256
 * is what the impersonation trace compares. Needs no lock and no history.
 */
export type SnapshotAnalysis = { sha256: string } & ImageAnalysis;

/** What analysing a snapshot reads. */
export interface AnalyseDeps {
  repo: Pick<FacestreamingRepository, 'imageOf'>;
  faces: Pick<FaceAnalyzer, 'analyze' | 'info'>;
}

/** What deciding a snapshot reads: the employee's history and the rules' settings. */
export interface JudgeDeps {
  repo: Pick<FacestreamingRepository, 'matchedTracesBefore' | 'verdictsBefore'>;
  /** P(same person | distance): the calibrated `accuracy`. */
  confidence(distance: number): number;
  settings: {
    threshold: number;
    impersonation: ImpersonationTolerances;
    absenceStreak: number;
    alerts: AlertRoute;
  };
}

/** Whether deciding against this enrolment needs the snapshot's faces (else it is answered without). */
export const needsAnalysis = (enrolment: EnrolmentLookup): boolean => enrolment.kind === 'ready';

/** The snapshot's image through the face engine; unusable bytes are an answer, other failures throw. */
export async function analyseSnapshot(deps: AnalyseDeps, streamImgId: number): Promise<SnapshotAnalysis> {
  const image = (await deps.repo.imageOf(streamImgId)) ?? Buffer.alloc(0);
  const sha256 = createHash('sha256').update(image).digest('hex');
  return { sha256, ...(await analyzeOrInvalid(deps.faces, image)) };
}

/**
 * One snapshot against the employee's enrolment, their previous snapshots and the alert
 * rules: run under the employee's lock, in capture order, since it reads the verdicts
 * before. `analysed` is the snapshot's analysis, needed when `needsAnalysis(enrolment)`.
 */
export async function decideSnapshot(deps: JudgeDeps, s: SnapshotRow, enrolment: CurrentEnrolment, analysed: SnapshotAnalysis | undefined): Promise<Judgement> {
  const base = { id: s.id, lanId: s.lanId, captureTime: s.captureTime, numFaces: null, distance: null, accuracy: null, alerts: [] };
  if (enrolment.kind === 'none') {
    return { ...base, result: 'NO_TRAINING_IMAGE', trainImgId: null, detail: { enrolment: 'none', enrolmentPending: enrolment.pending } };
  }
  if (enrolment.kind === 'failed') {
    return { ...base, result: 'TRAINING_IMAGE_FAILED', trainImgId: enrolment.trainImgId, detail: { enrolment: 'failed', enrolmentResult: enrolment.result, ...(enrolment.reencodedFrom && { enrolmentModel: enrolment.reencodedFrom }) } };
  }
  if (!analysed) throw new Error(`stream_img ${s.id}: decided against an enrolment without its analysis`);
  if ('invalid' in analysed) {
    return { ...base, result: 'INVALID_IMAGE', trainImgId: enrolment.trainImgId, detail: { reason: analysed.invalid } };
  }
  const { analysis } = analysed;

  const { settings } = deps;
  const decision = decideVerification(enrolment.descriptor, analysis.faces, settings.threshold);
  const best = decision.bestFace === null ? undefined : analysis.faces[decision.bestFace];
  const matched = decision.result === 'SUCCESS' || decision.result === 'SUCCESS_MULTIPLE_FACES';
  const trace = {
    sha256: analysed.sha256,
    matched,
    descriptor: best?.descriptor,
    landmarks: best && normalizeLandmarks(best.landmarks, best.box),
  };
  const detail: Record<string, unknown> = {
    faces: analysis.faces.map((f) => ({ box: roundBox(f.box), score: round(f.score, 3) })),
    bestFace: decision.bestFace,
    threshold: settings.threshold,
    enrolmentModel: enrolment.model,
    ...(enrolment.reencodedFrom && { enrolmentReencodedFrom: enrolment.reencodedFrom }),
    backend: analysis.backend,
    ms: analysis.ms,
  };
  let result: Judgement['result'] = decision.result;
  const alerts: Judgement['alerts'] = [];
  const alertData = { lanId: s.lanId, streamImgId: s.id, captureTime: s.captureTime };

  if (matched) {
    const earlier = await deps.repo.matchedTracesBefore(s, settings.impersonation.window - 1);
    const verdict = judgeImpersonation({ streamImgId: s.id, ...trace }, earlier, settings.impersonation);
    detail.impersonation = verdict;
    if (verdict.suspected) {
      result = 'IMPERSONATION_SUSPECTED';
      alerts.push(buildAlert('impersonation', settings.alerts, { ...alertData, trainImgId: enrolment.trainImgId, evidence: verdict.pairs }));
    }
  }
  const absence = judgeAbsence(result, await deps.repo.verdictsBefore(s, VERDICT_RESULTS, settings.absenceStreak), settings.absenceStreak);
  if (absence.streak > 0) detail.absenceStreak = absence.streak;
  if (absence.alert) alerts.push(buildAlert(absence.alert, settings.alerts, { ...alertData, streak: absence.streak }));

  return {
    ...base,
    result,
    numFaces: analysis.faces.length,
    distance: decision.distance,
    accuracy: decision.distance === null ? null : deps.confidence(decision.distance),
    trainImgId: enrolment.trainImgId,
    detail,
    trace: { ...trace, matched: matched },
    alerts,
  };
}

const round = (v: number, digits: number) => Math.round(v * 10 ** digits) / 10 ** digits;
const roundBox = (b: { x: number; y: number; width: number; height: number }) => ({ x: Math.round(b.x), y: Math.round(b.y), width: Math.round(b.width), height: Math.round(b.height) });

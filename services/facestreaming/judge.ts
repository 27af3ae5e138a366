import { createHash } from 'node:crypto';
import type { FacestreamingRepository, GalleryLookup, SnapshotRow, SnapshotVerdict } from '../../db/repositories/facestreaming.repository.ts';
import type { AlertRoute } from '../../shared/contract/messages.ts';
import type { ConsoleLinks } from '../../shared/contract/console-links.ts';
import { analyzeOrInvalid, type FaceAnalyzer, type ImageAnalysis } from '../../shared/face/face-analyzer.ts';
import type { ImpersonationTolerances } from '../../shared/face/impersonation.ts';
import { normalizeLandmarks } from '../../shared/face/geometry.ts';
import { judgeImpersonation } from '../../shared/face/impersonation.ts';
import { judgeAbsence, VERDICT_RESULTS } from '../../shared/face/presence.ts';
import { decideAgainstGallery } from '../../shared/face/verification.ts';
import { buildAlert } from './alerts.ts';
import type { CurrentGallery } from './gallery-model.ts';

export type Judgement = Omit<SnapshotVerdict, 'attemptId'>;

/**
 * What the face engine made of one snapshot's bytes, kept without the bytes: their sha256
 * is what the impersonation trace compares. Needs no lock and no history.
 */
export type SnapshotAnalysis = { sha256: string; model: string } & ImageAnalysis;

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
    /** The console's deep links for the alerts, when `CONSOLE_URL` is set. */
    links?: ConsoleLinks;
  };
}

/** Whether deciding against this gallery needs the snapshot's faces (else it is answered without). */
export const needsAnalysis = (gallery: GalleryLookup): boolean => gallery.kind === 'ready';

/** The snapshot's image through the face engine; unusable bytes are an answer, other failures throw. */
export async function analyseSnapshot(deps: AnalyseDeps, streamImgId: number): Promise<SnapshotAnalysis> {
  const image = (await deps.repo.imageOf(streamImgId)) ?? Buffer.alloc(0);
  const sha256 = createHash('sha256').update(image).digest('hex');
  return { sha256, model: deps.faces.info.model, ...(await analyzeOrInvalid(deps.faces, image)) };
}

/**
 * One snapshot against the employee's gallery, their previous snapshots and the alert
 * rules: run under the employee's lock, in capture order, since it reads the verdicts
 * before. `analysed` is the snapshot's analysis, needed when `needsAnalysis(gallery)`.
 */
export async function decideSnapshot(deps: JudgeDeps, s: SnapshotRow, gallery: CurrentGallery, analysed: SnapshotAnalysis | undefined): Promise<Judgement> {
  const base = { id: s.id, lanId: s.lanId, captureTime: s.captureTime, numFaces: null, distance: null, accuracy: null, alerts: [] };
  const modelNotes = {
    ...(gallery.reencoded && { galleryReencoded: gallery.reencoded }),
    ...(gallery.unusable && { galleryUnusable: gallery.unusable }),
    ...(gallery.notThisSkipped && { notThisSkipped: gallery.notThisSkipped }),
  };
  if (gallery.kind === 'none') {
    return { ...base, result: 'NO_TRAINING_IMAGE', trainImgId: null, detail: { enrolment: 'none', enrolmentPending: gallery.pending } };
  }
  if (gallery.kind === 'failed') {
    return { ...base, result: 'TRAINING_IMAGE_FAILED', trainImgId: gallery.trainImgId, detail: { enrolment: 'failed', enrolmentResult: gallery.result, ...modelNotes } };
  }
  const newest = gallery.faces[0]!.trainImgId;
  if (!analysed) throw new Error(`stream_img ${s.id}: decided against a gallery without its analysis`);
  if ('invalid' in analysed) {
    return { ...base, result: 'INVALID_IMAGE', trainImgId: newest, detail: { reason: analysed.invalid } };
  }
  const { analysis } = analysed;

  const { settings } = deps;
  const threshold = gallery.threshold ?? settings.threshold;
  const decision = decideAgainstGallery(gallery.faces, analysis.faces, threshold, gallery.notThis);
  const best = decision.bestFace === null ? undefined : analysis.faces[decision.bestFace];
  const matchedFace = decision.galleryFace === null ? undefined : gallery.faces[decision.galleryFace];
  const matched = decision.result === 'SUCCESS' || decision.result === 'SUCCESS_MULTIPLE_FACES';
  const trace = {
    sha256: analysed.sha256,
    matched,
    descriptor: best?.descriptor,
    landmarks: best && normalizeLandmarks(best.landmarks, best.box),
  };
  const notThis = decision.notThis && {
    face: decision.notThis.face,
    streamImgId: gallery.notThis[decision.notThis.notThisFace]!.streamImgId,
    distance: decision.notThis.distance,
    galleryDistance: decision.notThis.galleryDistance,
    why: 'the face is closer to a face a supervisor said is not this employee than to the gallery',
  };
  const detail: Record<string, unknown> = {
    faces: analysis.faces.map((f) => ({ box: roundBox(f.box), score: round(f.score, 3) })),
    bestFace: decision.bestFace,
    threshold,
    thresholdSource: gallery.threshold === null ? 'default' : 'employee',
    gallery: { faces: gallery.faces.length, matched: matchedFace?.trainImgId ?? null, notThis: gallery.notThis.length },
    ...(notThis && { notThis }),
    enrolmentModel: analysed.model,
    ...modelNotes,
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
      alerts.push(buildAlert('impersonation', settings.alerts, { ...alertData, trainImgId: matchedFace?.trainImgId ?? newest, evidence: verdict.pairs }, settings.links));
    }
  }
  const absence = judgeAbsence(result, await deps.repo.verdictsBefore(s, VERDICT_RESULTS, settings.absenceStreak), settings.absenceStreak);
  if (absence.streak > 0) detail.absenceStreak = absence.streak;
  if (absence.alert) alerts.push(buildAlert(absence.alert, settings.alerts, { ...alertData, streak: absence.streak }, settings.links));

  return {
    ...base,
    result,
    numFaces: analysis.faces.length,
    distance: decision.distance,
    accuracy: accuracyOf(deps, decision.distance, notThis?.distance),
    trainImgId: matchedFace?.trainImgId ?? newest,
    detail,
    faces: analysis.faces.map((f) => ({ box: roundBox(f.box), score: f.score, landmarks: f.landmarks, quality: f.quality, model: analysed.model, descriptor: f.descriptor })),
    trace: { ...trace, matched: matched },
    alerts,
  };
}

/**
 * The calibrated confidence that the best face is the employee; a face turned away as
 * closer to a not-this face gets no more than the confidence that it is not that face.
 */
function accuracyOf(deps: JudgeDeps, distance: number | null, notThisDistance: number | undefined): number | null {
  if (distance === null) return null;
  const own = deps.confidence(distance);
  return notThisDistance === undefined ? own : Math.min(own, 1 - deps.confidence(notThisDistance));
}

const round = (v: number, digits: number) => Math.round(v * 10 ** digits) / 10 ** digits;
const roundBox = (b: { x: number; y: number; width: number; height: number }) => ({ x: Math.round(b.x), y: Math.round(b.y), width: Math.round(b.width), height: Math.round(b.height) });

import type { FacetrainingRepository } from '../../db/repositories/facetraining.repository.ts';
import type { TrainResult } from '../../shared/contract/result-codes.ts';
import { decideEnrolment } from '../../shared/face/enrolment.ts';
import { analyzeOrInvalid, type FaceAnalyzer, type ImageAnalysis } from '../../shared/face/face-analyzer.ts';
import type { QualityBounds } from '../../shared/face/quality.ts';
import type { LockManager } from '../../shared/lock.ts';
import type { Metrics } from '../../shared/metrics.ts';
import type { HandlerOutcome, JobContext } from '../../shared/runtime/consumer.ts';
import { errorCode, errorMessage } from '../../shared/errors.ts';
import type { ImageIdMessage } from '../../shared/contract/messages.ts';
import { employeeLockKey } from '../../shared/employee-lock-key.ts';
import type { DuplicateChecker } from '../../shared/gallery/duplicate-check.ts';

export interface Deps {
  repo: FacetrainingRepository;
  faces: Pick<FaceAnalyzer, 'analyze' | 'info'>;
  locks: LockManager;
  bounds: QualityBounds;
  /** Whether an accepted face is another employee's (DUPLICATE_IDENTITY); absent when FACE_DUPLICATE_CHECK is off. */
  duplicates?: Pick<DuplicateChecker, 'check'>;
  metrics: Pick<Metrics, 'faceResultsTotal'>;
  worker: string;
}

/** What the face engine said about the photo, why the bytes are not a usable image, or how the analysis failed. */
type Analysed = ImageAnalysis | { failed: unknown };

/**
 * Checks an enrolment photo and stores its descriptor; every attempt leaves a process_status row.
 *
 * The analysis runs outside the employee's lock, so a burst of one employee's photos keeps
 * every face thread busy; the lock covers only the attempt, the decision and the record,
 * so the employee's attempts still never overlap and the newest enrolment is the last
 * recorded. The attempt row is opened under the lock, after the status check (its span is
 * the decision's); an analysis that failed (a face thread died) opens one there too and
 * releases it saying why, as a failed decision does.
 *
 * A face the gate accepts is compared with every other employee's gallery under the lock
 * (shared/gallery/duplicate-check.ts, a few milliseconds): close to someone else's, it is
 * DUPLICATE_IDENTITY and no descriptor is stored.
 */
export function facetrainingHandler(deps: Deps) {
  return async ({ id }: ImageIdMessage, ctx: JobContext): Promise<HandlerOutcome> => {
    const row = await deps.repo.findTrainImage(id);
    if (!row) {
      ctx.log.warn({ trainImgId: id }, 'no train_img with this id; acked without work');
      return 'rejected';
    }
    if (row.status === 'Y' || row.status === 'F') return 'duplicate';

    const analysed: Analysed = await analyzeOrInvalid(deps.faces, row.image ?? new Uint8Array(0)).catch((failed: unknown) => ({ failed }));
    ctx.signal.throwIfAborted();

    // One employee's enrolments are decided and recorded one at a time, across every replica.
    return deps.locks.withLock(employeeLockKey(row.lanIdWeight), async (lockLost) => {
      const status = await deps.repo.statusOf(id);
      if (status === 'Y' || status === 'F') return 'duplicate';
      const attemptId = await deps.repo.startAttempt({ id, attempt: ctx.attempt, worker: deps.worker });
      try {
        if ('failed' in analysed) throw analysed.failed;
        const { result, numFaces, detail, descriptor } = await checkDuplicate(deps, row, evaluate(deps, analysed));
        lockLost.throwIfAborted();
        ctx.signal.throwIfAborted();
        await deps.repo.recordResult({ id, lanId: row.lanId, attemptId, result, numFaces, detail, descriptor });
        deps.metrics.faceResultsTotal.inc({ type: 'train', result });
        ctx.log.info({ trainImgId: id, result, numFaces }, 'enrolment checked');
        return result === 'INVALID_IMAGE' ? 'rejected' : 'done';
      } catch (err) {
        await deps.repo
          .releaseAttempt({ id, attemptId, detail: { error: errorCode(err), message: errorMessage(err), retry: true } })
          .catch((releaseErr: unknown) => ctx.log.error({ err: releaseErr }, 'could not release the attempt'));
        throw err;
      }
    });
  };
}

interface Evaluation {
  result: TrainResult;
  numFaces: number | null;
  detail: Record<string, unknown>;
  descriptor?: { values: Float32Array; model: string; box: unknown; score: number; quality: unknown };
}

function evaluate(deps: Deps, analysed: ImageAnalysis): Evaluation {
  if ('invalid' in analysed) return { result: 'INVALID_IMAGE', numFaces: null, detail: { reason: analysed.invalid } };
  const { analysis } = analysed;
  const decision = decideEnrolment(analysis, deps.bounds);
  const faces = analysis.faces.map((f) => ({ box: roundBox(f.box), score: round(f.score), quality: f.quality }));
  const detail = {
    faces,
    reasons: decision.reasons,
    padded: analysis.padded,
    looks: analysis.looks,
    backend: analysis.backend,
    image: { width: analysis.width, height: analysis.height },
    ms: analysis.ms,
  };
  const face = decision.face;
  return {
    result: decision.result,
    numFaces: analysis.faces.length,
    detail,
    descriptor: face && { values: face.descriptor, model: deps.faces.info.model, box: roundBox(face.box), score: face.score, quality: face.quality },
  };
}

/** The gate's SUCCESS stands only if the face is no other employee's (CONTRACT.md, `DUPLICATE_IDENTITY`). */
async function checkDuplicate(deps: Deps, row: { lanId: string; lanIdWeight: string }, e: Evaluation): Promise<Evaluation> {
  if (e.result !== 'SUCCESS' || !e.descriptor) return e;
  if (!deps.duplicates) return { ...e, detail: { ...e.detail, duplicateCheck: 'off' } };
  const { duplicateOf, ...check } = await deps.duplicates.check({ descriptor: e.descriptor.values, lanId: row.lanId, lanIdWeight: row.lanIdWeight });
  if (!duplicateOf) return { ...e, detail: { ...e.detail, duplicateCheck: check } };
  return { result: 'DUPLICATE_IDENTITY', numFaces: e.numFaces, detail: { ...e.detail, duplicateOf, duplicateCheck: check } };
}

const round = (v: number) => Math.round(v * 1000) / 1000;
const roundBox = (b: { x: number; y: number; width: number; height: number }) => ({ x: Math.round(b.x), y: Math.round(b.y), width: Math.round(b.width), height: Math.round(b.height) });

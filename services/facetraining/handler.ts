import type { FacetrainingRepository } from '../../db/repositories/facetraining.repository.ts';
import type { TrainResult } from '../../shared/contract/result-codes.ts';
import { decideEnrolment } from '../../shared/face/enrolment.ts';
import type { FaceAnalysis } from '../../shared/face/engine.ts';
import type { FaceAnalyzer } from '../../shared/face/face-analyzer.ts';
import type { QualityBounds } from '../../shared/face/quality.ts';
import type { LockManager } from '../../shared/lock.ts';
import type { Metrics } from '../../shared/metrics.ts';
import type { HandlerOutcome, JobContext } from '../../shared/runtime/consumer.ts';
import { errorCode, errorMessage } from '../../shared/errors.ts';
import type { ImageIdMessage } from '../../shared/contract/messages.ts';

export interface Deps {
  repo: FacetrainingRepository;
  faces: Pick<FaceAnalyzer, 'analyze' | 'info'>;
  locks: LockManager;
  bounds: QualityBounds;
  metrics: Pick<Metrics, 'faceResultsTotal'>;
  worker: string;
}

/** Checks an enrolment photo and stores its descriptor; every attempt leaves a process_status row. */
export function facetrainingHandler(deps: Deps) {
  return async ({ id }: ImageIdMessage, ctx: JobContext): Promise<HandlerOutcome> => {
    const row = await deps.repo.findTrainImage(id);
    if (!row) {
      ctx.log.warn({ trainImgId: id }, 'no train_img with this id; acked without work');
      return 'rejected';
    }
    if (row.status === 'Y' || row.status === 'F') return 'duplicate';

    // One employee's enrolments are judged one at a time, across every replica.
    return deps.locks.withLock(`employee:${row.lanId}`, async (lockLost) => {
      const status = await deps.repo.statusOf(id);
      if (status === 'Y' || status === 'F') return 'duplicate';
      const attemptId = await deps.repo.startAttempt({ id, attempt: ctx.attempt, worker: deps.worker });
      try {
        const { result, numFaces, detail, descriptor } = await evaluate(deps, row.image);
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

async function evaluate(deps: Deps, image: Buffer | null): Promise<Evaluation> {
  let analysis: FaceAnalysis;
  try {
    analysis = await deps.faces.analyze(image ?? new Uint8Array(0));
  } catch (err) {
    if (errorCode(err) !== 'INVALID_IMAGE') throw err;
    return { result: 'INVALID_IMAGE', numFaces: null, detail: { reason: errorMessage(err) } };
  }
  const decision = decideEnrolment(analysis, deps.bounds);
  const faces = analysis.faces.map((f) => ({ box: roundBox(f.box), score: round(f.score), quality: f.quality }));
  const detail = {
    faces,
    reasons: decision.reasons,
    padded: analysis.padded,
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

const round = (v: number) => Math.round(v * 1000) / 1000;
const roundBox = (b: { x: number; y: number; width: number; height: number }) => ({ x: Math.round(b.x), y: Math.round(b.y), width: Math.round(b.width), height: Math.round(b.height) });

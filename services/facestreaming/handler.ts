import type { FacestreamingRepository, SnapshotRow } from '../../db/repositories/facestreaming.repository.ts';
import type { LockManager } from '../../shared/lock.ts';
import type { Logger } from '../../shared/logger.ts';
import type { Metrics } from '../../shared/metrics.ts';
import { publishAlertOutbox, type AlertOutboxPort } from '../../shared/runtime/alert-outbox.ts';
import type { HandlerOutcome, JobContext } from '../../shared/runtime/consumer.ts';
import { errorCode, errorMessage, TransientError } from '../../shared/errors.ts';
import type { ImageIdMessage, Notification } from '../../shared/contract/messages.ts';
import { analysisMemo, type AnalysisScope } from './analysis-memo.ts';
import { galleryModels, type CurrentGallery, type GalleryModelDeps, type GalleryModels } from './gallery-model.ts';
import { analyseSnapshot, decideSnapshot, needsAnalysis, type AnalyseDeps, type JudgeDeps, type SnapshotAnalysis } from './judge.ts';
import { employeeLockKey } from '../../shared/employee-lock-key.ts';

export interface Deps extends JudgeDeps, AnalyseDeps, GalleryModelDeps {
  repo: FacestreamingRepository;
  locks: LockManager;
  /** The face_alert outbox: one snapshot's pending alerts. */
  outbox: { ofSnapshot(streamImgId: number): AlertOutboxPort };
  /** Publishes one alert to `notifier` (confirmed). */
  publishAlert(n: Notification): Promise<void>;
  settings: JudgeDeps['settings'] & {
    /** On the last attempt a snapshot stops waiting for a pending enrolment. */
    maxAttempts: number;
    /** A snapshot is compared with the newest this many active gallery faces. */
    gallerySize: number;
    /** Earlier unjudged snapshots judged first, at most this many per job. @default 20 */
    catchUpLimit?: number;
  };
  metrics: Pick<Metrics, 'faceResultsTotal'>;
  worker: string;
}

type Scope = AnalysisScope<SnapshotAnalysis>;

/**
 * Verifies a webcam snapshot against the employee's gallery. The face analysis needs no
 * lock and runs first, so a burst of one employee's snapshots keeps every face thread
 * busy. The decision reads the snapshots before (impersonation, absence), so it is taken
 * under the employee's lock and in capture order: snapshots captured earlier and not yet
 * judged are judged first (their own messages then find them done), with the analysis
 * their own job has under way in this process when there is one.
 */
export function facestreamingHandler(deps: Deps) {
  const catchUpLimit = deps.settings.catchUpLimit ?? 20;
  const analyses = analysisMemo<SnapshotAnalysis>();
  const models = galleryModels(deps);
  return async ({ id }: ImageIdMessage, ctx: JobContext): Promise<HandlerOutcome> => {
    const row = await deps.repo.findSnapshot(id);
    if (!row) {
      ctx.log.warn({ streamImgId: id }, 'no stream_img with this id; acked without work');
      return 'rejected';
    }
    if (isJudged(row)) return publishAlerts(deps, id, ctx.log).then(() => 'duplicate');

    const scope = analyses.scope();
    try {
      // Outside the lock: is there anything to compare with, then the analysis.
      if (needsAnalysis(await enrolmentReady(deps, models, row, ctx))) {
        // A failure is recorded with the attempt, under the lock (the scope keeps it).
        await scope.analyse(id, () => analyseSnapshot(deps, id)).catch(() => undefined);
      }
      ctx.signal.throwIfAborted();

      return await deps.locks.withLock(employeeLockKey(row.lanIdWeight), async (lockLost) => {
        const current = await deps.repo.findSnapshot(id);
        if (!current) return 'rejected';
        if (isJudged(current)) return publishAlerts(deps, id, ctx.log).then(() => 'duplicate');
        const enrolment = await enrolmentReady(deps, models, current, ctx);
        const earlier = await deps.repo.pendingBefore(current, catchUpLimit);
        for (const s of earlier) await judgeAndRecord(deps, s, enrolment, undefined, scope, ctx, lockLost);
        if (earlier.length === catchUpLimit) {
          throw new TransientError('EARLIER_SNAPSHOTS_PENDING', `stream_img ${id}: more than ${catchUpLimit} earlier snapshots wait to be judged first`);
        }
        const result = await judgeAndRecord(deps, current, enrolment, ctx.attempt, scope, ctx, lockLost);
        return result === 'INVALID_IMAGE' ? 'rejected' : 'done';
      });
    } finally {
      scope.end();
    }
  };
}

const isJudged = (s: SnapshotRow) => s.status === 'Y' || s.status === 'F';

/**
 * The gallery to compare with, as this engine's face model describes it; an enrolment newer
 * than the newest processed one is waited for (a retry), except on the last attempt.
 */
async function enrolmentReady(deps: Deps, models: GalleryModels, s: SnapshotRow, ctx: JobContext): Promise<CurrentGallery> {
  const gallery = await deps.repo.galleryFor(s.lanId, deps.settings.gallerySize);
  if (gallery.pending && ctx.attempt < deps.settings.maxAttempts) {
    throw new TransientError('ENROLMENT_PENDING', `stream_img ${s.id}: the employee's newest enrolment is not processed yet; retried later`);
  }
  return models.current(gallery);
}

/** Under the lock: one snapshot's attempt, decision and record, then its alerts. */
async function judgeAndRecord(deps: Deps, s: SnapshotRow, enrolment: CurrentGallery, attempt: number | undefined, scope: Scope, ctx: JobContext, lockLost: AbortSignal) {
  const attemptId = await deps.repo.startAttempt({ id: s.id, attempt, worker: deps.worker });
  let judgement;
  try {
    const analysed = needsAnalysis(enrolment) ? await scope.analyse(s.id, () => analyseSnapshot(deps, s.id)) : undefined;
    judgement = await decideSnapshot(deps, s, enrolment, analysed);
    lockLost.throwIfAborted();
    ctx.signal.throwIfAborted();
    await deps.repo.recordVerdict({ ...judgement, attemptId });
  } catch (err) {
    await deps.repo
      .releaseAttempt({ id: s.id, attemptId, detail: { error: errorCode(err), message: errorMessage(err), retry: true } })
      .catch((releaseErr: unknown) => ctx.log.error({ err: releaseErr }, 'could not release the attempt'));
    throw err;
  }
  deps.metrics.faceResultsTotal.inc({ type: 'stream', result: judgement.result });
  ctx.log.info({ streamImgId: s.id, result: judgement.result, numFaces: judgement.numFaces, alerts: judgement.alerts.map((a) => a.kind), caughtUp: attempt === undefined }, 'snapshot verified');
  await publishAlerts(deps, s.id, ctx.log);
  return judgement.result;
}

/**
 * The outbox's second half: alerts committed with a verdict are published, then marked.
 * A failure here fails the job; its retry finds the snapshot judged and publishes again.
 */
async function publishAlerts(deps: Deps, streamImgId: number, log: Logger): Promise<void> {
  await publishAlertOutbox(deps.outbox.ofSnapshot(streamImgId), deps.publishAlert, log);
}

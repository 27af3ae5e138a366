import type { FacestreamingRepository, SnapshotRow, EnrolmentLookup } from '../../db/repositories/facestreaming.repository.ts';
import type { LockManager } from '../../shared/lock.ts';
import type { Logger } from '../../shared/logger.ts';
import type { Metrics } from '../../shared/metrics.ts';
import { publishAlertOutbox, type AlertOutboxPort } from '../../shared/runtime/alert-outbox.ts';
import type { HandlerOutcome, JobContext } from '../../shared/runtime/consumer.ts';
import { errorCode, errorMessage, TransientError } from '../../shared/errors.ts';
import type { ImageIdMessage, Notification } from '../../shared/contract/messages.ts';
import { judgeSnapshot, type JudgeDeps } from './judge.ts';

export interface Deps extends JudgeDeps {
  repo: FacestreamingRepository;
  locks: LockManager;
  /** The face_alert outbox: one snapshot's pending alerts. */
  outbox: { ofSnapshot(streamImgId: number): AlertOutboxPort };
  /** Publishes one alert to `notifier` (confirmed). */
  publishAlert(n: Notification): Promise<void>;
  settings: JudgeDeps['settings'] & {
    /** On the last attempt a snapshot stops waiting for a pending enrolment. */
    maxAttempts: number;
    /** Earlier unjudged snapshots judged first, at most this many per job. @default 20 */
    catchUpLimit?: number;
  };
  metrics: Pick<Metrics, 'faceResultsTotal'>;
  worker: string;
}

/**
 * Verifies a webcam snapshot against the employee's enrolment. One employee's snapshots
 * are judged under their lock and in capture order: snapshots captured earlier and not yet
 * judged are judged first (their own messages then find them done), because the
 * impersonation and absence rules read the snapshots before.
 */
export function facestreamingHandler(deps: Deps) {
  const catchUpLimit = deps.settings.catchUpLimit ?? 20;
  return async ({ id }: ImageIdMessage, ctx: JobContext): Promise<HandlerOutcome> => {
    const row = await deps.repo.findSnapshot(id);
    if (!row) {
      ctx.log.warn({ streamImgId: id }, 'no stream_img with this id; acked without work');
      return 'rejected';
    }
    if (row.status === 'Y' || row.status === 'F') return publishAlerts(deps, id, ctx.log).then(() => 'duplicate');

    return deps.locks.withLock(`employee:${row.lanId}`, async (lockLost) => {
      const current = await deps.repo.findSnapshot(id);
      if (!current) return 'rejected';
      if (current.status === 'Y' || current.status === 'F') return publishAlerts(deps, id, ctx.log).then(() => 'duplicate');

      const enrolment = await deps.repo.enrolmentFor(current.lanId);
      if (enrolment.pending && ctx.attempt < deps.settings.maxAttempts) {
        throw new TransientError('ENROLMENT_PENDING', `stream_img ${id}: the employee's newest enrolment is not processed yet; retried later`);
      }
      const earlier = await deps.repo.pendingBefore(current, catchUpLimit);
      for (const s of earlier) await judgeAndRecord(deps, s, enrolment, undefined, ctx, lockLost);
      if (earlier.length === catchUpLimit) {
        throw new TransientError('EARLIER_SNAPSHOTS_PENDING', `stream_img ${id}: more than ${catchUpLimit} earlier snapshots wait to be judged first`);
      }
      const result = await judgeAndRecord(deps, current, enrolment, ctx.attempt, ctx, lockLost);
      return result === 'INVALID_IMAGE' ? 'rejected' : 'done';
    });
  };
}

async function judgeAndRecord(deps: Deps, s: SnapshotRow, enrolment: EnrolmentLookup, attempt: number | undefined, ctx: JobContext, lockLost: AbortSignal) {
  const attemptId = await deps.repo.startAttempt({ id: s.id, attempt, worker: deps.worker });
  let judgement;
  try {
    judgement = await judgeSnapshot(deps, s, enrolment);
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

import { uploadLockKey, type UploadRecord, type UploadResult, type UploaderRepository } from '../../db/repositories/uploader.repository.ts';
import type { UploadStatus, UploadTarget } from '../../db/schema.ts';
import type { LockManager } from '../../shared/lock.ts';
import type { Logger } from '../../shared/logger.ts';
import type { HandlerOutcome, JobContext } from '../../shared/runtime/consumer.ts';
import { PermanentError, errorCode, errorMessage, isPermanent } from '../../shared/errors.ts';
import { CODECS, type Notification, type UploadJob } from '../../shared/contract/messages.ts';
import { FacebookRateLimitError } from './facebook-errors.ts';
import { speakerNotices } from './notices.ts';

/** Uploads the job's source to one target; throws a VigilError when it cannot. */
export type TargetRunner = (job: UploadJob, row: UploadRecord, signal: AbortSignal) => Promise<UploadResult>;

export interface Deps {
  repo: UploaderRepository;
  locks: LockManager;
  targets: Record<UploadTarget, TargetRunner>;
  /** The targets of a job that names none (`UPLOADER_DEFAULT_TARGETS`). */
  defaultTargets: readonly UploadTarget[];
  /** The buckets a job may publish from (`BUCKET_VIDEO` and `UPLOADER_SOURCE_BUCKETS`). */
  sourceBuckets: readonly string[];
  /**
   * Why the job cannot be published on these targets, known before any runs (a key the
   * library's store would refuse): then every target fails with it and nothing is written.
   */
  refuseJob?(job: UploadJob, targets: readonly UploadTarget[]): PermanentError | undefined;
  /** Publishes one speaker's email to the notifier queue (confirmed). */
  publishNotice(n: Notification): Promise<void>;
  /** A throttled upload waits this long when the API names no time (`FACEBOOK_RATE_LIMIT_WAIT`). */
  rateLimitWaitMs: number;
  /** Throttled this many times, an upload fails for good (`FACEBOOK_MAX_POSTPONES`). */
  maxPostpones: number;
  worker: string;
  /** The attempt that fails transiently at this count is dead-lettered. */
  maxAttempts: number;
  now?: () => Date;
}

type TargetOutcome = 'done' | 'postponed' | 'failed';

/**
 * An upload job: under the source's lock, find the row of each target, run those not
 * done (or due again after a postponement), record each outcome, and once every target
 * is done mail the speakers their links. A target that failed for good does not stop the
 * others; a transient failure is recorded and rethrown after them, so the queue retries
 * only what is left.
 */
export function uploaderHandler(deps: Deps) {
  const now = deps.now ?? (() => new Date());
  return async (job: UploadJob, ctx: JobContext): Promise<HandlerOutcome> => {
    const key = CODECS.uploader.key(job)!;
    // A target named twice is one target: its row would run twice (two Facebook videos).
    const targets = [...new Set(job.targets ?? deps.defaultTargets)];
    return deps.locks.withLock(uploadLockKey(key), async (lockLost) => {
      const signal = AbortSignal.any([ctx.signal, lockLost]);
      await refuseChangedResend(deps, key, job);
      const rows = await deps.repo.findOrCreate(key, job.source, targets, job);
      const todo = rows.filter((r) => isDue(r, now()));
      let failed = false;
      let transient: unknown;
      const refused = sourceRefused(deps, job) ?? deps.refuseJob?.(job, targets);
      for (const row of todo) {
        try {
          if ((await runTarget(deps, job, row, ctx, signal, refused)) === 'failed') failed = true;
        } catch (err) {
          transient ??= err;
        }
      }
      if (transient !== undefined) throw transient;
      const after = todo.length > 0 ? await deps.repo.findOrCreate(key, job.source, targets, job) : rows;
      if (after.every((r) => r.status === 'done')) await notifySpeakers(deps, key, job, after, ctx.log);
      if (todo.length === 0) return 'duplicate';
      return failed ? 'rejected' : 'done';
    });
  };
}

/**
 * Runs now: never tried, interrupted (`running` while we hold the lock: the process died),
 * waiting for the queue's retry, dead-lettered and sent again, or postponed and due.
 */
function isDue(row: UploadRecord, now: Date): boolean {
  if (row.status === 'done' || row.status === 'failed') return false;
  if (row.status === 'postponed') return row.nextAttemptAt === null || row.nextAttemptAt <= now;
  return true;
}

function sourceRefused(deps: Deps, job: UploadJob): PermanentError | undefined {
  if (deps.sourceBuckets.includes(job.source.bucket)) return undefined;
  return new PermanentError('SOURCE_BUCKET_NOT_ALLOWED', `the uploader publishes only from ${deps.sourceBuckets.join(', ')} (BUCKET_VIDEO, UPLOADER_SOURCE_BUCKETS), not from bucket ${job.source.bucket}`);
}

/** What a job publishes besides the video: the same source sent again must say the same. */
function publishedContent(job: Pick<UploadJob, 'title' | 'description' | 'speakers'>) {
  return {
    title: job.title,
    description: job.description ?? '',
    speakers: (job.speakers ?? []).map((s) => ({ name: s.name, email: s.email ?? null })),
  };
}

/**
 * A job is its source: a resend is a redelivery, never an edit. One whose title,
 * description or speakers differ from what the source's rows recorded would mail a title,
 * or mail people, that the published video does not have (or change a video half
 * published): it is refused whole, nothing run and nobody mailed, and dead-lettered with
 * this code so that an operator sees it.
 */
async function refuseChangedResend(deps: Deps, key: string, job: UploadJob): Promise<void> {
  const mine = publishedContent(job);
  for (const text of await deps.repo.recordedJobs(key)) {
    const theirs = publishedContent(JSON.parse(text) as UploadJob);
    const fields = (['title', 'description', 'speakers'] as const).filter((f) => JSON.stringify(mine[f]) !== JSON.stringify(theirs[f]));
    if (fields.length > 0) {
      throw new PermanentError(
        'UPLOAD_JOB_CONFLICT',
        `this source was already taken up with another ${fields.join(', ')}; a resend does not change what is published, so nothing was done and nobody was mailed (a changed talk needs a source key of its own)`,
      );
    }
  }
}

async function runTarget(deps: Deps, job: UploadJob, row: UploadRecord, ctx: JobContext, signal: AbortSignal, refused: PermanentError | undefined): Promise<TargetOutcome> {
  const started = performance.now();
  const log = ctx.log.child({ uploadId: row.id, target: row.target });
  await deps.repo.startAttempt(row.id, { worker: deps.worker, job });
  let result: UploadResult;
  try {
    if (refused) throw refused;
    result = await deps.targets[row.target](job, row, signal);
  } catch (err) {
    return recordFailure(deps, row, err, { attempt: ctx.attempt, aborted: signal.aborted, log });
  }
  const transferMs = performance.now() - started;
  await deps.repo.recordDone(row.id, { ...result, transferMs });
  log.info({ bytes: result.sourceBytes, transferMs: Math.round(transferMs) }, 'uploaded');
  return 'done';
}

async function recordFailure(deps: Deps, row: UploadRecord, err: unknown, s: { attempt: number; aborted: boolean; log: Logger }): Promise<TargetOutcome> {
  const code = errorCode(err);
  const message = errorMessage(err);
  if (err instanceof FacebookRateLimitError && !s.aborted) {
    if (row.postponements < deps.maxPostpones) {
      const waitMs = err.retryAfterMs ?? deps.rateLimitWaitMs;
      const until = new Date((deps.now?.() ?? new Date()).getTime() + waitMs);
      await deps.repo.recordPostponed(row.id, { until, code, message });
      s.log.warn({ code, until: until.toISOString(), postponements: row.postponements + 1 }, 'upload throttled; postponed');
      return 'postponed';
    }
    const gaveUp = `throttled ${row.postponements + 1} times (FACEBOOK_MAX_POSTPONES is ${deps.maxPostpones}); failed for good. Last: ${message}`;
    await recordOrThrow(deps, row.id, { status: 'failed', code, message: gaveUp }, err, s.log);
    s.log.error({ code }, 'upload failed: throttled too often');
    return 'failed';
  }
  const permanent = isPermanent(err) && !s.aborted;
  let status: UploadStatus = 'failed';
  if (!permanent) status = s.attempt >= deps.maxAttempts && !s.aborted ? 'dead_lettered' : 'pending';
  await recordOrThrow(deps, row.id, { status, code, message }, err, s.log);
  if (!permanent) throw err;
  s.log.warn({ code, message }, 'upload failed');
  return 'failed';
}

async function recordOrThrow(deps: Deps, id: number, r: { status: UploadStatus; code: string; message: string }, err: unknown, log: Logger): Promise<void> {
  try {
    await deps.repo.recordFailure(id, r);
  } catch (recordErr) {
    // Unrecorded, a failure must not be acked as handled: rethrown, it is retried.
    log.error({ err: recordErr, uploadId: id }, 'could not record the failure');
    throw err;
  }
}

/** The outbox: the notices are recorded once, then each one not yet published is published and marked. */
async function notifySpeakers(deps: Deps, key: string, job: UploadJob, rows: readonly UploadRecord[], log: Logger): Promise<void> {
  const notices = speakerNotices(job, rows);
  const without = (job.speakers ?? []).length - notices.length;
  await deps.repo.recordNotices(key, notices.map((n) => ({ speakerIndex: n.speakerIndex, notification: JSON.stringify(n.notification) })));
  let published = 0;
  for (const pending of await deps.repo.pendingNotices(key)) {
    await deps.publishNotice(JSON.parse(pending.notification) as Notification);
    await deps.repo.markNoticePublished(pending.id);
    published++;
  }
  if (published > 0 || without > 0) {
    log.info({ uploadIds: rows.map((r) => r.id), published, speakersWithoutEmail: without }, 'speakers notified of the published video');
  }
}

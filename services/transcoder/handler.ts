import { join } from 'node:path';
import type { VideoJobStatus } from '../../db/schema.ts';
import { videoJobLockKey, type TranscoderRepository, type VideoJobRecord } from '../../db/repositories/transcoder.repository.ts';
import { checkNotTruncated, probeVideo } from '../../shared/media/ffprobe.ts';
import { checkMediaLimits, type PlannedWork } from '../../shared/media/media-limits.ts';
import type { LockManager } from '../../shared/lock.ts';
import type { Logger } from '../../shared/logger.ts';
import type { Metrics } from '../../shared/metrics.ts';
import type { HandlerOutcome, JobContext } from '../../shared/runtime/consumer.ts';
import { errorCode, errorMessage, isPermanent } from '../../shared/errors.ts';
import { CODECS, type QueueMessage, type VideoJob, type VideoJobDefaults, type VideoJobRules } from '../../shared/contract/messages.ts';
import type { ObjectStore } from '../../shared/storage/object-store.ts';
import { encodeAndStore } from './encode-and-store.ts';
import type { EncodeResult, MediaSettings } from './encode-types.ts';
import { planJob, type JobPlan } from './plan.ts';
import { ProgressBoard } from './progress.ts';
import { checkFreeDisk, withJobDir, withoutWorkPaths } from './work-dir.ts';

export interface Deps {
  repo: TranscoderRepository;
  store: Pick<ObjectStore, 'ensureBucket' | 'download' | 'upload' | 'put' | 'head' | 'delete'>;
  locks: LockManager;
  /** Publishes the `then` job (confirmed); the queue's topology is declared first. */
  publishNext(next: QueueMessage, messageId: string): Promise<void>;
  defaults: VideoJobDefaults;
  /** Which queues and buckets a job may name. */
  rules: VideoJobRules;
  media: MediaSettings;
  work: { root: string; minFreeBytes: number; freeBytes?: (path: string) => Promise<number> };
  metrics: Pick<Metrics, 'transcodeProgress' | 'transcodeMediaSeconds' | 'transcodeFrames' | 'transcodeStageSeconds'>;
  worker: string;
  /** The attempt that fails transiently at this count is dead-lettered. */
  maxAttempts: number;
  /** Processes that may die running one job before it fails for good (`TRANSCODER_MAX_DEATHS`). */
  maxDeaths: number;
}

const service = 'transcoder';

/**
 * A video job: find its row, skip it if it is finished, make and store every output,
 * delete the source, record, then queue the next step. A permanent failure is recorded
 * and rejected; a transient one is recorded and retried.
 */
export function transcoderHandler(deps: Deps) {
  const progress = new ProgressBoard(deps.metrics);
  return async (job: VideoJob, ctx: JobContext): Promise<HandlerOutcome> => {
    const key = CODECS.transcoder.key(job)!;
    // A redelivery to another replica while the first still works waits here, then finds the row finished.
    return deps.locks.withLock(videoJobLockKey(key), async (lockLost) => {
      const signal = AbortSignal.any([ctx.signal, lockLost]);
      const row = await deps.repo.findOrCreate(key, job.source);
      if ((row.status === 'done' || row.status === 'failed') && !(await uploadedAgain(deps, job, row))) {
        if (row.status === 'done' && row.nextPublishedAt === null) await publishNext(deps, row.id, nextOf(job, deps));
        return 'duplicate';
      }
      if (await diedBefore(deps, row, ctx)) return 'rejected';
      return run(deps, job, row, ctx, signal, progress);
    });
  };
}

/**
 * We hold the job's lock, yet its row says an attempt is running: the process that ran it
 * died without a word (OOM killer, a crash in a native library, SIGKILL). Counted; past
 * `maxDeaths` the job fails for good, with the source kept, instead of killing every
 * process it is redelivered to.
 */
async function diedBefore(deps: Deps, row: VideoJobRecord, ctx: JobContext): Promise<boolean> {
  if (row.status !== 'running' && row.status !== 'uploading') return false;
  const deaths = await deps.repo.recordDeath(row.id);
  const detail = { videoJobId: row.id, deaths, maxDeaths: deps.maxDeaths, lastWorker: row.worker, was: row.status };
  if (deaths < deps.maxDeaths) {
    ctx.log.warn(detail, 'the process running this video job died; running it again');
    return false;
  }
  const message = `${deaths} processes died running this job (the last ${row.worker ?? 'unknown'}, while ${row.status}); failed for good so it cannot crash-loop (TRANSCODER_MAX_DEATHS is ${deps.maxDeaths}); the source is kept`;
  await deps.repo.recordFailure(row.id, { status: 'failed', code: 'WORKER_DIED', message, totalMs: 0 });
  ctx.log.error(detail, 'video job failed: it killed the process that ran it, again');
  return true;
}

async function run(deps: Deps, job: VideoJob, row: VideoJobRecord, ctx: JobContext, signal: AbortSignal, progress: ProgressBoard): Promise<HandlerOutcome> {
  const started = performance.now();
  let stored = row.status === 'stored';
  await deps.repo.startAttempt(row.id, { attempt: ctx.attempt, worker: deps.worker, job, status: stored ? 'stored' : 'running' });
  let plan: JobPlan;
  try {
    plan = planJob(job, deps.defaults, deps.rules);
    if (!stored) {
      const result = await transcode(deps, plan, row.id, ctx.log, signal, progress);
      stored = true;
      logStored(ctx.log, row.id, result);
    }
    signal.throwIfAborted();
    // Last of all: the source goes only once every output is stored and verified.
    if (plan.deleteSource) await deps.store.delete(plan.source.bucket, plan.source.key);
    await deps.repo.recordDone(row.id, { sourceDeleted: plan.deleteSource, totalMs: performance.now() - started });
  } catch (err) {
    return recordFailure(deps, row.id, err, { stored, attempt: ctx.attempt, aborted: signal.aborted, started, log: ctx.log });
  }
  deps.metrics.transcodeStageSeconds.observe({ service, stage: 'total' }, (performance.now() - started) / 1000);
  await publishNext(deps, row.id, plan.next);
  return 'done';
}

/** Download, probe, one ffmpeg pass with uploads alongside, then the row says `stored`. */
async function transcode(deps: Deps, plan: JobPlan, rowId: number, log: Logger, signal: AbortSignal, progress: ProgressBoard): Promise<EncodeResult> {
  await checkFreeDisk(deps.work.root, deps.work.minFreeBytes, deps.work.freeBytes);
  await deps.store.ensureBucket(plan.outputBucket);
  if (plan.work.kind === 'split') await deps.store.ensureBucket(plan.work.frames.bucket);
  return withJobDir(deps.work.root, rowId, log, async (dir) => {
    try {
      const input = join(dir, 'source');
      const t0 = performance.now();
      const { etag, size } = await deps.store.download(plan.source.bucket, plan.source.key, input, { signal });
      const downloadMs = performance.now() - t0;
      await deps.repo.recordSource(rowId, { etag, bytes: size, downloadMs });
      const info = await probeVideo(input, { ffprobePath: deps.media.ffprobePath, signal });
      // A source cut short fails for good and is kept: its outputs would be half of it.
      checkNotTruncated(info);
      checkMediaLimits(info, plannedWork(plan), deps.media.limits);
      const result = await encodeAndStore({
        input, workDir: dir, info, plan, media: deps.media, store: deps.store, signal,
        onProgress: (seconds, total) => progress.update(rowId, seconds, total),
        onEncoded: () => deps.repo.setStatus(rowId, 'uploading'),
      }).finally(() => progress.end(rowId));
      await recordStored(deps, rowId, info.durationSeconds, result, downloadMs);
      return result;
    } catch (err) {
      throw withoutWorkPaths(err, dir);
    }
  });
}

function plannedWork(plan: JobPlan): PlannedWork {
  return plan.work.kind === 'split' ? { split: plan.work.split, frameEvery: plan.work.frames.every } : {};
}

async function recordStored(deps: Deps, rowId: number, sourceSeconds: number, result: EncodeResult, downloadMs: number): Promise<void> {
  const { clips, frames, ffmpegMs, totalMs } = result;
  await deps.repo.recordStored(rowId, {
    outputs: {
      clips: clips.map(({ bucket, key, startSeconds, endSeconds, bytes }) => ({ bucket, key, startSeconds, endSeconds, bytes })),
      ...(frames && { frames: { bucket: frames.bucket, prefix: frames.prefix, every: frames.every, count: frames.counts.kept } }),
    },
    frames: frames?.counts,
    sourceSeconds,
    ffmpegMs,
  });
  const m = deps.metrics;
  if (frames) {
    m.transcodeFrames.inc({ service, verdict: 'kept' }, frames.counts.kept);
    for (const [verdict, n] of Object.entries(frames.counts.dropped)) m.transcodeFrames.inc({ service, verdict }, n);
  }
  m.transcodeStageSeconds.observe({ service, stage: 'download' }, downloadMs / 1000);
  m.transcodeStageSeconds.observe({ service, stage: 'encode' }, ffmpegMs / 1000);
  m.transcodeStageSeconds.observe({ service, stage: 'finish' }, Math.max(0, totalMs - ffmpegMs) / 1000);
}

/**
 * A finished job whose source object is there again under the same key, with other content
 * (or after we deleted it), is a new upload rather than a redelivery. A job that failed
 * because the object was missing runs once the object exists.
 */
async function uploadedAgain(deps: Deps, job: VideoJob, row: VideoJobRecord): Promise<boolean> {
  const now = await deps.store.head(job.source.bucket, job.source.key);
  if (now === null) return false;
  if (row.status === 'done') return row.sourceDeletedAt !== null || now.etag !== row.sourceEtag;
  return row.sourceEtag === null ? row.errorCode === 'OBJECT_NOT_FOUND' : now.etag !== row.sourceEtag;
}

async function recordFailure(
  deps: Deps,
  id: number,
  err: unknown,
  s: { stored: boolean; attempt: number; aborted: boolean; started: number; log: Logger },
): Promise<HandlerOutcome> {
  const permanent = isPermanent(err) && !s.aborted;
  let status: VideoJobStatus;
  if (permanent) status = 'failed';
  else if (s.stored) status = 'stored';
  else if (s.aborted) status = 'queued';
  else status = s.attempt >= deps.maxAttempts ? 'dead_lettered' : 'retrying';
  const code = errorCode(err);
  const message = errorMessage(err);
  try {
    await deps.repo.recordFailure(id, { status, code, message, totalMs: performance.now() - s.started });
  } catch (recordErr) {
    // Unrecorded, a permanent failure must not be acked as handled: rethrown, it is dead-lettered.
    s.log.error({ err: recordErr, videoJobId: id }, 'could not record the failure');
    throw err;
  }
  if (!permanent) throw err;
  s.log.warn({ videoJobId: id, code, message }, 'video job failed');
  return 'rejected';
}

async function publishNext(deps: Deps, rowId: number, next: JobPlan['next']): Promise<void> {
  if (!next) return;
  await deps.publishNext(next, `video-job-${rowId}-then`);
  await deps.repo.markNextPublished(rowId);
}

function nextOf(job: VideoJob, deps: Pick<Deps, 'defaults' | 'rules'>): JobPlan['next'] {
  try {
    return planJob(job, deps.defaults, deps.rules).next;
  } catch {
    return undefined;
  }
}

function logStored(log: Logger, rowId: number, r: EncodeResult): void {
  log.info(
    {
      videoJobId: rowId,
      clips: r.clips.length,
      clipsStoredDuringEncode: r.clips.filter((c) => c.duringEncode).length,
      framesKept: r.frames?.counts.kept,
      framesStoredDuringEncode: r.frames?.storedDuringEncode,
      framesDropped: r.frames?.counts.dropped,
      ffmpegMs: Math.round(r.ffmpegMs),
      afterFfmpegMs: Math.round(r.totalMs - r.ffmpegMs),
    },
    'video job outputs stored',
  );
}

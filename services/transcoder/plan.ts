import { PermanentError, errorMessage } from '../../shared/errors.ts';
import { CODECS, type QueueMessage, type VideoJob, type VideoJobDefaults, type VideoJobRules } from '../../shared/contract/messages.ts';
import { isQueueName, type QueueName } from '../../shared/contract/queue-names.ts';
import { isClipName } from '../../shared/media/output-names.ts';
import { checkObjectKey, keyStem } from '../../shared/contract/object-key.ts';

export interface FramesPlan {
  bucket: string;
  every: number;
  width: number;
  height: number;
  dropDead: boolean;
}

/** A camera upload (clips and frames) or a talk (one trimmed file with fades, no frames). */
export type WorkPlan =
  | { kind: 'split'; split: { maxSeconds: number; clipSeconds: number }; frames: FramesPlan }
  | { kind: 'trim'; start: number; end: number; fadeSeconds: number };

export interface JobPlan {
  source: { bucket: string; key: string };
  /** The source's file name without extension: the stem of every output name. */
  stem: string;
  outputBucket: string;
  deleteSource: boolean;
  work: WorkPlan;
  /** The `then` job, checked against its queue's format. */
  next?: QueueMessage;
}

/**
 * The job with its defaults filled in, checked before any work: a `then` or a bucket the
 * rules do not allow, a key that cannot name outputs, or outputs that would replace the
 * source are permanent failures.
 */
export function planJob(job: VideoJob, d: VideoJobDefaults, rules: VideoJobRules): JobPlan {
  checkObjectKey(job.source.key);
  const stem = keyStem(job.source.key);
  const outputBucket = job.output?.bucket ?? d.outputBucket;
  const work: WorkPlan = job.trim
    ? { kind: 'trim', start: job.trim.start, end: job.trim.end, fadeSeconds: job.trim.fadeSeconds ?? d.fadeSeconds }
    : {
        kind: 'split',
        split: { maxSeconds: job.split?.maxSeconds ?? d.split.maxSeconds, clipSeconds: job.split?.clipSeconds ?? d.split.clipSeconds },
        frames: {
          bucket: job.frames?.bucket ?? d.framesBucket,
          every: job.frames?.every ?? d.frames.every,
          width: job.frames?.width ?? d.frames.width,
          height: job.frames?.height ?? d.frames.height,
          dropDead: job.frames?.dropDead ?? d.frames.dropDead,
        },
      };
  allowed('output.bucket', outputBucket, rules.outputBuckets);
  if (work.kind === 'split') allowed('frames.bucket', work.frames.bucket, rules.framesBuckets);
  if (job.source.bucket === outputBucket && isClipName(job.source.key, stem)) {
    // Deleting the source would then delete an output, and a retry would process its own result.
    throw new PermanentError('OUTPUT_WOULD_REPLACE_SOURCE', `an output would have the source's own name in bucket ${outputBucket}; give the job another output.bucket`);
  }
  const plan: JobPlan = { source: job.source, stem, outputBucket, deleteSource: job.deleteSource ?? d.deleteSource, work };
  if (job.then) plan.next = nextStep(job.then, rules.nextQueues);
  return plan;
}

function allowed(field: string, bucket: string, buckets: readonly string[]): void {
  if (!buckets.includes(bucket)) {
    throw new PermanentError('BUCKET_NOT_ALLOWED', `${field} must be one of ${buckets.join(', ')} (TRANSCODER_OUTPUT_BUCKETS adds more)`);
  }
}

function nextStep(then: NonNullable<VideoJob['then']>, nextQueues: readonly QueueName[]): QueueMessage {
  const { queue } = then;
  if (!isQueueName(queue) || !nextQueues.includes(queue)) {
    // A producer allowed to write only to this queue must not reach the others through it.
    throw new PermanentError('BAD_NEXT_STEP', `then.queue must be one of ${nextQueues.join(', ') || '(none: TRANSCODER_NEXT_QUEUES)'} (got ${JSON.stringify(queue.slice(0, 60))})`);
  }
  try {
    return { queue, payload: CODECS[queue].parse(Buffer.from(JSON.stringify(then.job))) } as QueueMessage;
  } catch (err) {
    throw new PermanentError('BAD_NEXT_STEP', `then.job is not a valid ${queue} message: ${errorMessage(err)}`, err);
  }
}

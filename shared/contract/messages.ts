import { z } from 'zod';
import { decodeEventKey, isBucketName } from './object-key.ts';
import { PermanentError, errorMessage } from '../errors.ts';
import { isEmailAddress } from './email-address.ts';
import type { QueueName } from './queue-names.ts';

/**
 * The body formats of CONTRACT.md, each written once: consumers parse with `parse`,
 * Vigil's own publishers build bodies with `encode`, and `key` names the job so that a
 * redelivery of a job still running in this process is recognised.
 */
export interface MessageCodec<T> {
  parse(body: Buffer): T;
  encode(payload: T): Buffer;
  key(payload: T): string | undefined;
}

/** Larger bodies are refused before parsing; the biggest legitimate one is a video job. */
export const MAX_BODY_BYTES = 256 * 1024;
/**
 * Deeper JSON is refused before validation: no legitimate body nests past a handful of
 * levels, and a deep one overflows the stack of every recursive walk after it
 * (`JSON.stringify` when the job is recorded, the schema's own checks).
 */
export const MAX_JSON_DEPTH = 32;
const MAX_ID = 2 ** 31 - 1;

export class BadMessageError extends PermanentError {
  constructor(message: string, cause?: unknown) {
    super('BAD_MESSAGE', message, cause);
  }
}

// ---- facetraining / facestreaming: an image id --------------------------------------

export interface ImageIdMessage {
  id: number;
}

const idSchema = z.object({ id: z.union([z.number(), z.string().regex(/^\d+$/).transform(Number)]) });

function parseImageId(body: Buffer): ImageIdMessage {
  const text = decode(body, 1024).trim();
  let id: number;
  if (/^\d+$/.test(text)) {
    id = Number(text);
  } else {
    const json = parseJson(text, 'a decimal id or JSON {"id":123}');
    // `-3` or `1.5` parse as JSON numbers: say what is wrong with the id, not the shape.
    id = typeof json === 'number' ? json : validate(idSchema, json).id;
  }
  if (!Number.isSafeInteger(id) || id < 1 || id > MAX_ID) {
    throw new BadMessageError(`id must be an integer from 1 to ${MAX_ID} (got ${String(id).slice(0, 40)})`);
  }
  return { id };
}

export const imageIdCodec: MessageCodec<ImageIdMessage> = {
  parse: parseImageId,
  encode: (p) => Buffer.from(JSON.stringify({ id: p.id })),
  key: (p) => `id:${p.id}`,
};

// ---- transcoder: a video job, or an S3/MinIO event notification ---------------------

const bucketName = z.string().refine(isBucketName, { message: 'must be an S3 bucket name (3-63 of a-z 0-9 . -)' });
const s3Object = z.object({ bucket: bucketName, key: z.string().min(1).max(1024) });
const positive = z.number().positive().finite();

export const videoJobSchema = z
  .object({
    jobId: z.string().min(1).max(200).optional(),
    source: s3Object,
    deleteSource: z.boolean().optional(),
    split: z.object({ maxSeconds: positive.optional(), clipSeconds: positive.optional() }).optional(),
    frames: z
      .object({
        every: z.number().int().min(1).max(10_000).optional(),
        bucket: bucketName.optional(),
        dropDead: z.boolean().optional(),
        width: z.number().int().min(16).max(8192).optional(),
        height: z.number().int().min(16).max(8192).optional(),
      })
      .optional(),
    trim: z
      .object({ start: z.number().min(0).finite(), end: positive, fadeSeconds: z.number().min(0).max(60).optional() })
      .refine((t) => t.end > t.start, { message: 'trim.end must be after trim.start' })
      .optional(),
    output: z.object({ bucket: bucketName.optional() }).optional(),
    then: z.object({ queue: z.string().min(1), job: z.record(z.string(), z.unknown()) }).optional(),
  })
  .strict();

export type VideoJob = z.infer<typeof videoJobSchema>;

/**
 * What a video job may ask for, beyond its shape: producers are outside this repository,
 * and a producer allowed to write only to `transcoder` must not reach other queues or
 * buckets through it.
 */
export interface VideoJobRules {
  /** `then.queue` must be one of these (`TRANSCODER_NEXT_QUEUES`). @default ['uploader'] */
  nextQueues: readonly QueueName[];
  /** `output.bucket` must be one of these: `BUCKET_VIDEO` and `TRANSCODER_OUTPUT_BUCKETS`. */
  outputBuckets: readonly string[];
  /** `frames.bucket` must be one of these: `BUCKET_FRAMES` and `TRANSCODER_OUTPUT_BUCKETS`. */
  framesBuckets: readonly string[];
}

/** What a video job leaves unsaid comes from configuration (CONTRACT.md, "Video job"). */
export interface VideoJobDefaults {
  /** `BUCKET_VIDEO`. @default 'video-mp4' */
  outputBucket: string;
  /** `BUCKET_FRAMES`. @default 'unlabeled-images' */
  framesBucket: string;
  split: {
    /** `TRANSCODER_SPLIT_ABOVE_SECONDS`: longer videos are split. @default 240 */
    maxSeconds: number;
    /** `TRANSCODER_CLIP_SECONDS`. @default 120 */
    clipSeconds: number;
  };
  frames: {
    /** `TRANSCODER_FRAME_EVERY`: keep source frames 0, N, 2N, … @default 10 */
    every: number;
    /** `TRANSCODER_FRAME_WIDTH`. @default 1280 */
    width: number;
    /** `TRANSCODER_FRAME_HEIGHT`. @default 720 */
    height: number;
    /** `TRANSCODER_DROP_DEAD_FRAMES`. @default true */
    dropDead: boolean;
  };
  /** `TRANSCODER_DELETE_SOURCE`: delete the source once every output is stored. @default true */
  deleteSource: boolean;
  /** `TRANSCODER_FADE_SECONDS`: a trim's fade when the job gives none. @default 3 */
  fadeSeconds: number;
}

const s3EventSchema = z.object({
  Records: z
    .array(z.object({ s3: z.object({ bucket: z.object({ name: bucketName }), object: z.object({ key: z.string().min(1) }) }) }))
    .length(1, 'an S3 event must carry exactly one record'),
});

function parseVideoJob(body: Buffer): VideoJob {
  const json = parseJson(decode(body, MAX_BODY_BYTES), 'a video job or an S3 event notification as JSON');
  if (json !== null && typeof json === 'object' && 'Records' in json) {
    const record = validate(s3EventSchema, json).Records[0]!;
    let key: string;
    try {
      key = decodeEventKey(record.s3.object.key);
    } catch (err) {
      throw new BadMessageError(errorMessage(err), err);
    }
    return { source: { bucket: record.s3.bucket.name, key } };
  }
  return validate(videoJobSchema, json);
}

export const videoJobCodec: MessageCodec<VideoJob> = {
  parse: parseVideoJob,
  encode: (p) => Buffer.from(JSON.stringify(p)),
  key: (p) => p.jobId ?? `s3:${p.source.bucket}/${p.source.key}`,
};

// ---- uploader ------------------------------------------------------------------------

export const uploadJobSchema = z.object({
  source: s3Object,
  title: z.string().min(1).max(500),
  description: z.string().max(20_000).optional(),
  speakers: z.array(z.object({ name: z.string().min(1).max(200), email: z.string().refine(isEmailAddress, { message: 'must be a plain email address (name@example.org)' }).optional() })).max(50).optional(),
  // Folded: a target named twice is one target (a video published once per Page).
  targets: z.array(z.enum(['library', 'facebook'])).min(1).max(2).transform((ts) => [...new Set(ts)]).optional(),
});
export type UploadJob = z.infer<typeof uploadJobSchema>;

export const uploadJobCodec: MessageCodec<UploadJob> = {
  parse: (body) => validate(uploadJobSchema, parseJson(decode(body, MAX_BODY_BYTES), 'an upload job as JSON')),
  encode: (p) => Buffer.from(JSON.stringify(p)),
  key: (p) => `upload:${p.source.bucket}/${p.source.key}`,
};

// ---- notifier ------------------------------------------------------------------------

export const notificationSchema = z.object({
  channel: z.enum(['email', 'webhook']),
  to: z.array(z.string().min(1).max(2048)).min(1).max(100),
  template: z.string().regex(/^[a-z0-9_]{1,64}$/),
  data: z.record(z.string(), z.unknown()).optional(),
  idempotencyKey: z.string().min(1).max(200).optional(),
});
export type Notification = z.infer<typeof notificationSchema>;

/**
 * The prefix of the idempotency keys Vigil's own publishers give their notifications. The
 * notifier binds such a key to the notification's content, so a producer that sends one
 * first only spends it on its own words, never on the alert Vigil sends after.
 */
export const VIGIL_KEY_PREFIX = 'vigil:';
export const vigilNotificationKey = (name: string): string => `${VIGIL_KEY_PREFIX}${name}`;

/** Where a service's alerts go: a channel and its recipients (email addresses or webhook URLs). */
export interface AlertRoute {
  channel: Notification['channel'];
  to: string[];
}

export const notificationCodec: MessageCodec<Notification> = {
  parse: (body) => validate(notificationSchema, parseJson(decode(body, MAX_BODY_BYTES), 'a notification as JSON')),
  encode: (p) => Buffer.from(JSON.stringify(p)),
  key: (p) => (p.idempotencyKey ? `notify:${p.idempotencyKey}` : undefined),
};

export const CODECS = {
  facetraining: imageIdCodec,
  facestreaming: imageIdCodec,
  transcoder: videoJobCodec,
  uploader: uploadJobCodec,
  notifier: notificationCodec,
} satisfies Record<QueueName, MessageCodec<any>>;

export type PayloadOf<Q extends QueueName> = ReturnType<(typeof CODECS)[Q]['parse']>;

/** A message with the queue it goes to, for a queue known only at run time (a job's `then`). */
export type QueueMessage = { [Q in QueueName]: { queue: Q; payload: PayloadOf<Q> } }[QueueName];

// ---- helpers -------------------------------------------------------------------------

function decode(body: Buffer, maxBytes: number): string {
  if (body.length === 0) throw new BadMessageError('empty body');
  if (body.length > maxBytes) throw new BadMessageError(`body of ${body.length} bytes exceeds the ${maxBytes}-byte limit`);
  const text = body.toString('utf8');
  if (text.includes('\uFFFD')) throw new BadMessageError('body is not valid UTF-8');
  return text;
}

function parseJson(text: string, expected: string): unknown {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new BadMessageError(`body is not ${expected}`, err);
  }
  if (depthOf(json, MAX_JSON_DEPTH + 1) > MAX_JSON_DEPTH) throw new BadMessageError(`body nests deeper than ${MAX_JSON_DEPTH} levels`);
  return json;
}

/** How deep `value` nests, counted without recursion and no further than `stopAt`. */
export function depthOf(value: unknown, stopAt: number): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [v, d] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (d > deepest) deepest = d;
    if (deepest >= stopAt) return deepest;
    for (const child of Object.values(v)) stack.push([child, d + 1]);
  }
  return deepest;
}

function validate<S extends z.ZodType>(schema: S, value: unknown): z.infer<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const first = r.error.issues.slice(0, 3).map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`);
  throw new BadMessageError(`body has the wrong shape: ${first.join('; ')}`);
}

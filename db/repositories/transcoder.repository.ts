import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database, VideoJobStatus } from '../schema.ts';

/** The frame verdicts a job records, one column each (the media layer's counts fit it). */
export interface FrameCounts {
  kept: number;
  dropped: { black: number; frozen: number; blurred: number };
}

/** What a job stored, as kept in `video_job.outputs` (JSON). */
export interface VideoJobOutputs {
  clips: { bucket: string; key: string; startSeconds: number; endSeconds: number; bytes: number }[];
  /** Missing when no frames were asked for (a trim). */
  frames?: { bucket: string; prefix: string; every: number; count: number };
}

export interface VideoJobRecord {
  id: number;
  status: VideoJobStatus;
  attempts: number;
  /** Processes that died while running this job. */
  deaths: number;
  /** Who ran the last attempt (`host:pid`). */
  worker: string | null;
  sourceEtag: string | null;
  sourceDeletedAt: Date | null;
  errorCode: string | null;
  nextPublishedAt: Date | null;
}

/** The transcoder job's queries. */
export interface TranscoderRepository {
  /** The row of this job key, created `queued` when it is the first delivery. */
  findOrCreate(key: string, source: { bucket: string; key: string }): Promise<VideoJobRecord>;
  /** Opens an attempt: counts it, clears the last error, says who runs it. */
  startAttempt(id: number, a: { attempt: number; worker: string; job: unknown; status: VideoJobStatus }): Promise<void>;
  setStatus(id: number, status: VideoJobStatus): Promise<void>;
  /** One more process died running it; the new count. */
  recordDeath(id: number): Promise<number>;
  /** The source as downloaded: its etag tells a later upload under the same key from this one. */
  recordSource(id: number, s: { etag: string | undefined; bytes: number; downloadMs: number }): Promise<void>;
  /** Every output is stored and verified: `stored`, with what and how long. */
  recordStored(id: number, r: { outputs: VideoJobOutputs; frames?: FrameCounts; sourceSeconds: number; ffmpegMs: number }): Promise<void>;
  recordDone(id: number, r: { sourceDeleted: boolean; totalMs: number }): Promise<void>;
  /** `failed` for good, or waiting for a retry (`retrying`, `queued`, `dead_lettered`, `stored`). */
  recordFailure(id: number, r: { status: VideoJobStatus; code: string; message: string; totalMs: number }): Promise<void>;
  markNextPublished(id: number): Promise<void>;
}

/** The per-job lock: held by whoever runs the job, freed by the server when its process dies. */
export function videoJobLockKey(jobKey: string): string {
  return `video-job:${jobKey}`;
}

export function jobKeyHash(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

export function transcoderRepository(db: Kysely<Database>): TranscoderRepository {
  const find = async (hash: string) =>
    db
      .selectFrom('video_job')
      .select(['id', 'status', 'attempts', 'deaths', 'worker', 'source_etag', 'source_deleted_at', 'error_code', 'next_published_at'])
      .where('job_key_sha256', '=', hash)
      .executeTakeFirst();
  return {
    async findOrCreate(key, source) {
      const hash = jobKeyHash(key);
      let row = await find(hash);
      if (!row) {
        try {
          await db.insertInto('video_job').values({ job_key_sha256: hash, job_key: key, source_bucket: source.bucket, source_key: source.key }).execute();
        } catch (err) {
          // Another replica created it in between: read theirs.
          if ((err as { errno?: number }).errno !== 1062) throw err;
        }
        row = await find(hash);
      }
      if (!row) throw new Error(`video_job row for key hash ${hash} vanished after insert`);
      return {
        id: row.id,
        status: row.status,
        attempts: row.attempts,
        deaths: row.deaths,
        worker: row.worker,
        sourceEtag: row.source_etag,
        sourceDeletedAt: row.source_deleted_at,
        errorCode: row.error_code,
        nextPublishedAt: row.next_published_at,
      };
    },
    async startAttempt(id, a) {
      await db
        .updateTable('video_job')
        .set((eb) => ({
          status: a.status,
          attempts: eb('attempts', '+', 1),
          worker: a.worker,
          job: JSON.stringify(a.job),
          started_at: new Date(),
          finished_at: null,
          error_code: null,
          error_message: null,
        }))
        .where('id', '=', id)
        .execute();
    },
    async setStatus(id, status) {
      await db.updateTable('video_job').set({ status }).where('id', '=', id).execute();
    },
    async recordDeath(id) {
      await db.updateTable('video_job').set((eb) => ({ deaths: eb('deaths', '+', 1) })).where('id', '=', id).execute();
      const row = await db.selectFrom('video_job').select('deaths').where('id', '=', id).executeTakeFirstOrThrow();
      return row.deaths;
    },
    async recordSource(id, s) {
      await db
        .updateTable('video_job')
        .set({ source_etag: s.etag ?? null, source_bytes: s.bytes, download_ms: Math.round(s.downloadMs), source_deleted_at: null })
        .where('id', '=', id)
        .execute();
    },
    async recordStored(id, r) {
      await db
        .updateTable('video_job')
        .set({
          status: 'stored',
          outputs: JSON.stringify(r.outputs),
          frames_kept: r.frames?.kept ?? null,
          frames_black: r.frames?.dropped.black ?? null,
          frames_frozen: r.frames?.dropped.frozen ?? null,
          frames_blurred: r.frames?.dropped.blurred ?? null,
          source_seconds: r.sourceSeconds,
          ffmpeg_ms: Math.round(r.ffmpegMs),
        })
        .where('id', '=', id)
        .execute();
    },
    async recordDone(id, r) {
      const now = new Date();
      await db
        .updateTable('video_job')
        .set({ status: 'done', finished_at: now, total_ms: Math.round(r.totalMs), ...(r.sourceDeleted && { source_deleted_at: now }) })
        .where('id', '=', id)
        .execute();
    },
    async recordFailure(id, r) {
      await db
        .updateTable('video_job')
        .set({
          status: r.status,
          error_code: r.code.slice(0, 64),
          error_message: r.message.slice(0, 8000),
          total_ms: Math.round(r.totalMs),
          finished_at: r.status === 'failed' ? new Date() : null,
        })
        .where('id', '=', id)
        .execute();
    },
    async markNextPublished(id) {
      await db.updateTable('video_job').set({ next_published_at: new Date() }).where('id', '=', id).execute();
    },
  };
}

import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database, UploadStatus, UploadTarget } from '../schema.ts';

/** A Facebook upload session as saved to resume it: the API's ids and the offset it confirmed. */
export interface SavedSession {
  videoId: string;
  sessionId: string;
  startOffset: number;
  endOffset?: number;
}

export interface UploadRecord {
  id: number;
  target: UploadTarget;
  status: UploadStatus;
  attempts: number;
  postponements: number;
  nextAttemptAt: Date | null;
  url: string | null;
  sourceEtag: string | null;
  session: SavedSession | undefined;
}

export interface UploadResult {
  remoteId: string;
  url: string;
  sourceEtag: string | undefined;
  sourceBytes: number;
}

/** The uploader job's queries. */
export interface UploaderRepository {
  /** The job's row for each target, created `pending` when it is the first delivery; in target order. */
  findOrCreate(jobKey: string, source: { bucket: string; key: string }, targets: readonly UploadTarget[], job: unknown): Promise<UploadRecord[]>;
  /** The job (JSON) as each of its rows keeps it: what was published, or is being published. */
  recordedJobs(jobKey: string): Promise<string[]>;
  /** Opens an attempt: counts it, keeps the job as this delivery has it, says who runs it. */
  startAttempt(id: number, a: { worker: string; job: unknown }): Promise<void>;
  /** The Facebook session as the API last confirmed it, for the source object of this ETag. */
  saveSession(id: number, session: SavedSession, sourceEtag: string | undefined): Promise<void>;
  recordDone(id: number, r: UploadResult & { transferMs: number }): Promise<void>;
  /** Throttled: `postponed` until `until`, one more postponement counted. */
  recordPostponed(id: number, r: { until: Date; code: string; message: string }): Promise<void>;
  /** `failed` for good, or waiting for the queue's retry (`pending`, `dead_lettered`). */
  recordFailure(id: number, r: { status: UploadStatus; code: string; message: string }): Promise<void>;
  /**
   * Postponed rows that are due, claimed for republishing: each claim is an UPDATE that
   * only one replica wins, and it holds for `leaseMs` (a claim whose publish failed is
   * taken again after it).
   */
  claimDue(now: Date, leaseMs: number, limit: number): Promise<{ id: number; postponements: number; job: string }[]>;
  /** Records the speakers' notifications once (a second call adds nothing). */
  recordNotices(jobKey: string, notices: { speakerIndex: number; notification: string }[]): Promise<void>;
  pendingNotices(jobKey: string): Promise<{ id: number; notification: string }[]>;
  markNoticePublished(id: number): Promise<void>;
}

/** The per-source lock: held by whoever runs the job's targets. */
export function uploadLockKey(jobKey: string): string {
  return `upload:${jobKeyHash(jobKey)}`;
}

export function jobKeyHash(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

export function uploadKeyHash(jobKey: string, target: UploadTarget): string {
  return jobKeyHash(`${jobKey}|${target}`);
}

const COLUMNS = ['id', 'target', 'status', 'attempts', 'postponements', 'next_attempt_at', 'url', 'source_etag', 'fb_video_id', 'fb_session_id', 'fb_offset', 'fb_end_offset'] as const;

export function uploaderRepository(db: Kysely<Database>): UploaderRepository {
  const find = (hashes: string[]) => db.selectFrom('upload').select(COLUMNS).where('key_sha256', 'in', hashes).execute();
  return {
    async findOrCreate(jobKey, source, targets, job) {
      const hashes = targets.map((t) => uploadKeyHash(jobKey, t));
      let rows = await find(hashes);
      const missing = targets.filter((t) => !rows.some((r) => r.target === t));
      if (missing.length > 0) {
        const values = missing.map((target) => ({
          key_sha256: uploadKeyHash(jobKey, target),
          job_key_sha256: jobKeyHash(jobKey),
          job_key: jobKey,
          target,
          source_bucket: source.bucket,
          source_key: source.key,
          job: JSON.stringify(job),
        }));
        // Another replica may create them in between: theirs are read back below.
        await db.insertInto('upload').ignore().values(values).execute();
        rows = await find(hashes);
      }
      return targets.map((t) => {
        const row = rows.find((r) => r.target === t);
        if (!row) throw new Error(`upload row for target ${t} vanished after insert`);
        return {
          id: Number(row.id),
          target: row.target,
          status: row.status,
          attempts: row.attempts,
          postponements: row.postponements,
          nextAttemptAt: row.next_attempt_at,
          url: row.url,
          sourceEtag: row.source_etag,
          session: row.fb_video_id && row.fb_session_id ? { videoId: row.fb_video_id, sessionId: row.fb_session_id, startOffset: Number(row.fb_offset ?? 0), ...(row.fb_end_offset !== null && { endOffset: Number(row.fb_end_offset) }) } : undefined,
        };
      });
    },
    async recordedJobs(jobKey) {
      const rows = await db.selectFrom('upload').select('job').where('job_key_sha256', '=', jobKeyHash(jobKey)).execute();
      return rows.map((r) => r.job);
    },
    async startAttempt(id, a) {
      await db
        .updateTable('upload')
        .set((eb) => ({ status: 'running', attempts: eb('attempts', '+', 1), worker: a.worker, job: JSON.stringify(a.job), started_at: new Date(), republished_at: null }))
        .where('id', '=', id)
        .execute();
    },
    async saveSession(id, s, sourceEtag) {
      await db
        .updateTable('upload')
        .set({ fb_video_id: s.videoId, fb_session_id: s.sessionId, fb_offset: s.startOffset, fb_end_offset: s.endOffset ?? null, source_etag: sourceEtag ?? null })
        .where('id', '=', id)
        .execute();
    },
    async recordDone(id, r) {
      await db
        .updateTable('upload')
        .set({
          status: 'done', remote_id: r.remoteId.slice(0, 200), url: r.url.slice(0, 2048), source_etag: r.sourceEtag ?? null, source_bytes: r.sourceBytes,
          transfer_ms: Math.round(r.transferMs), finished_at: new Date(), next_attempt_at: null, last_error_code: null, last_error: null,
        })
        .where('id', '=', id)
        .execute();
    },
    async recordPostponed(id, r) {
      await db
        .updateTable('upload')
        .set((eb) => ({
          status: 'postponed', postponements: eb('postponements', '+', 1), next_attempt_at: r.until, republished_at: null,
          last_error_code: r.code.slice(0, 64), last_error: r.message.slice(0, 8000),
        }))
        .where('id', '=', id)
        .execute();
    },
    async recordFailure(id, r) {
      await db
        .updateTable('upload')
        .set({ status: r.status, last_error_code: r.code.slice(0, 64), last_error: r.message.slice(0, 8000), finished_at: r.status === 'failed' ? new Date() : null })
        .where('id', '=', id)
        .execute();
    },
    async claimDue(now, leaseMs, limit) {
      const staleClaim = new Date(now.getTime() - leaseMs);
      const due = () =>
        db
          .selectFrom('upload')
          .where('status', '=', 'postponed')
          .where('next_attempt_at', '<=', now)
          .where((eb) => eb.or([eb('republished_at', 'is', null), eb('republished_at', '<', staleClaim)]));
      const candidates = await due().select(['id', 'postponements', 'job']).orderBy('next_attempt_at').limit(limit).execute();
      const claimed: { id: number; postponements: number; job: string }[] = [];
      for (const c of candidates) {
        const res = await db
          .updateTable('upload')
          .set({ republished_at: now })
          .where('id', '=', c.id)
          .where('status', '=', 'postponed')
          .where('next_attempt_at', '<=', now)
          .where((eb) => eb.or([eb('republished_at', 'is', null), eb('republished_at', '<', staleClaim)]))
          .executeTakeFirst();
        if (Number(res.numUpdatedRows) === 1) claimed.push({ id: Number(c.id), postponements: c.postponements, job: c.job });
      }
      return claimed;
    },
    async recordNotices(jobKey, notices) {
      if (notices.length === 0) return;
      const hash = jobKeyHash(jobKey);
      await db
        .insertInto('upload_notice')
        .ignore()
        .values(notices.map((n) => ({ job_key_sha256: hash, speaker_index: n.speakerIndex, notification: n.notification })))
        .execute();
    },
    async pendingNotices(jobKey) {
      const rows = await db
        .selectFrom('upload_notice')
        .select(['id', 'notification'])
        .where('job_key_sha256', '=', jobKeyHash(jobKey))
        .where('published_at', 'is', null)
        .orderBy('speaker_index')
        .execute();
      return rows.map((r) => ({ id: Number(r.id), notification: r.notification }));
    },
    async markNoticePublished(id) {
      await db.updateTable('upload_notice').set({ published_at: new Date() }).where('id', '=', id).execute();
    },
  };
}

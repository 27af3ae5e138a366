import { createHash } from 'node:crypto';
import type { Kysely, Updateable } from 'kysely';
import type { Database, ImportFileTable, ImportStatus } from '../schema.ts';

export interface ImportJobRecord {
  id: string;
  directory: string;
  regex: string;
  extensions: string[];
  bucket: string;
  hookData: string | null;
  status: ImportStatus;
  runs: number;
  unmatched: number;
  /** The run that last took the job (`pid <n> on <host>`), and when; a killed run leaves it set. */
  runner: string | null;
  runStartedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

/** What makes two runs the same import. */
export interface ImportJobKey {
  directory: string;
  regex: string;
  extensions: string[];
  bucket: string;
}

export interface NewImportFile {
  relPath: string;
  size: number;
  mtimeMs: number;
  camera: string;
  epoch: number;
  key: string;
  shardIndex: number;
}

export interface ImportFileRecord extends NewImportFile {
  id: number;
  sha256: string | null;
  status: ImportStatus;
  publishedAt: Date | null;
}

export interface ShardRecord {
  index: number;
  itemCount: number;
  status: ImportStatus;
  counts: Record<ImportStatus, number>;
}

export interface FileFailure {
  path: string;
  key: string;
  status: ImportStatus;
  code: string | null;
  error: string | null;
}

/** The queries of `vigil import` and `vigil import status`. */
export interface ImportRepository {
  /** The job of this key, or a new one with `newId`; `resumed` says which. */
  findOrCreateJob(key: ImportJobKey, newId: string): Promise<{ job: ImportJobRecord; resumed: boolean }>;
  findJob(id: string): Promise<ImportJobRecord | undefined>;
  findJobByKey(key: ImportJobKey): Promise<ImportJobRecord | undefined>;
  /** Records the run that holds the job's lock now. */
  claimRun(jobId: string, runner: string): Promise<void>;
  /** The run ended (its lock is being released). */
  endRun(jobId: string): Promise<void>;
  /** One more run, with its hook data and how many names it could not match. */
  startRun(jobId: string, r: { hookData: string | null; unmatched: number }): Promise<void>;
  files(jobId: string): Promise<ImportFileRecord[]>;
  shards(jobId: string): Promise<ShardRecord[]>;
  /** New files and the shard counts they change, in one transaction. */
  addFiles(jobId: string, files: NewImportFile[], shards: { index: number; itemCount: number }[]): Promise<void>;
  /** The file changed since it was uploaded: back to `missing` with its new size and time. */
  resetFile(id: number, s: { size: number; mtimeMs: number }): Promise<void>;
  markUploading(id: number): Promise<void>;
  recordUploaded(id: number, r: { sha256: string; etag: string | undefined; size: number; mtimeMs: number }): Promise<void>;
  recordFailed(id: number, r: { code: string; message: string }): Promise<void>;
  /** Not uploaded this run (still being written): `missing`, with why. */
  recordLeftForLater(id: number, r: { code: string; message: string }): Promise<void>;
  markPublished(id: number): Promise<void>;
  /** Recounts one shard's files into its status, then the job's from its shards. */
  refreshShard(jobId: string, shardIndex: number): Promise<void>;
  /** Files `failed`, or left with an error, for the status report. */
  failures(jobId: string, limit: number): Promise<FileFailure[]>;
}

export function importJobKeyHash(k: ImportJobKey): string {
  return createHash('sha256').update(JSON.stringify([k.directory, k.regex, [...k.extensions].sort(), k.bucket])).digest('hex');
}

const pathHash = (relPath: string) => createHash('sha256').update(relPath).digest('hex');
const STATUSES: ImportStatus[] = ['missing', 'uploading', 'uploaded', 'failed'];

/** Per-status counts from `GROUP BY status` rows, every status present (0 when absent). */
function tally(rows: readonly { status: ImportStatus; n: number | string | bigint }[]): Record<ImportStatus, number> {
  const c = Object.fromEntries(STATUSES.map((st) => [st, 0])) as Record<ImportStatus, number>;
  for (const r of rows) c[r.status] = Number(r.n);
  return c;
}

type JobRow = {
  id: string;
  directory: string;
  regex: string;
  extensions: string;
  bucket: string;
  hook_data: string | null;
  status: ImportStatus;
  runs: number;
  unmatched: number;
  runner: string | null;
  run_started_at: Date | null;
  created_at: Date;
  updated_at: Date;
};

function toJob(r: JobRow): ImportJobRecord {
  return {
    id: r.id,
    directory: r.directory,
    regex: r.regex,
    extensions: r.extensions.split(','),
    bucket: r.bucket,
    hookData: r.hook_data,
    status: r.status,
    runs: r.runs,
    unmatched: r.unmatched,
    runner: r.runner,
    runStartedAt: r.run_started_at,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

const JOB_COLUMNS = ['id', 'directory', 'regex', 'extensions', 'bucket', 'hook_data', 'status', 'runs', 'unmatched', 'runner', 'run_started_at', 'created_at', 'updated_at'] as const;

/** A shard's status from its files' (services/cli/import/shard-plan.ts has the same rule, pure). */
export type ShardStatusRule = (c: Record<ImportStatus, number>) => ImportStatus;

export function importRepository(db: Kysely<Database>, rule: ShardStatusRule): ImportRepository {
  const byHash = (hash: string) => db.selectFrom('import_job').select(JOB_COLUMNS).where('job_key_sha256', '=', hash).executeTakeFirst();
  const setFile = async (id: number, values: Updateable<ImportFileTable>) => {
    await db.updateTable('import_file').set(values).where('id', '=', id).execute();
  };
  return {
    async findOrCreateJob(key, newId) {
      const hash = importJobKeyHash(key);
      const found = await byHash(hash);
      if (found) return { job: toJob(found), resumed: true };
      try {
        await db
          .insertInto('import_job')
          .values({ id: newId, job_key_sha256: hash, directory: key.directory, regex: key.regex, extensions: [...key.extensions].sort().join(','), bucket: key.bucket })
          .execute();
      } catch (err) {
        // The same import started at the same moment elsewhere: share its job.
        if ((err as { errno?: number }).errno !== 1062) throw err;
      }
      const row = await byHash(hash);
      if (!row) throw new Error('import_job row vanished after insert');
      return { job: toJob(row), resumed: row.id !== newId };
    },
    async findJob(id) {
      const row = await db.selectFrom('import_job').select(JOB_COLUMNS).where('id', '=', id).executeTakeFirst();
      return row && toJob(row);
    },
    async findJobByKey(key) {
      const row = await byHash(importJobKeyHash(key));
      return row && toJob(row);
    },
    async claimRun(jobId, runner) {
      await db.updateTable('import_job').set({ runner: runner.slice(0, 255), run_started_at: new Date() }).where('id', '=', jobId).execute();
    },
    async endRun(jobId) {
      await db.updateTable('import_job').set({ runner: null, run_started_at: null }).where('id', '=', jobId).execute();
    },
    async startRun(jobId, r) {
      await db
        .updateTable('import_job')
        .set((eb) => ({ runs: eb('runs', '+', 1), hook_data: r.hookData, unmatched: r.unmatched, updated_at: new Date() }))
        .where('id', '=', jobId)
        .execute();
    },
    async files(jobId) {
      const rows = await db
        .selectFrom('import_file')
        .select(['id', 'shard_index', 'rel_path', 'size', 'mtime_ms', 'camera', 'epoch', 'object_key', 'sha256', 'status', 'published_at'])
        .where('job_id', '=', jobId)
        .orderBy('id')
        .execute();
      return rows.map((r) => ({
        id: Number(r.id),
        shardIndex: r.shard_index,
        relPath: r.rel_path,
        size: Number(r.size),
        mtimeMs: Number(r.mtime_ms),
        camera: r.camera,
        epoch: Number(r.epoch),
        key: r.object_key,
        sha256: r.sha256,
        status: r.status,
        publishedAt: r.published_at,
      }));
    },
    async shards(jobId) {
      const shards = await db.selectFrom('import_shard').select(['shard_index', 'item_count', 'status']).where('job_id', '=', jobId).orderBy('shard_index').execute();
      const counts = await db
        .selectFrom('import_file')
        .select(['shard_index', 'status', (eb) => eb.fn.countAll<number>().as('n')])
        .where('job_id', '=', jobId)
        .groupBy(['shard_index', 'status'])
        .execute();
      return shards.map((s) => ({
        index: s.shard_index,
        itemCount: s.item_count,
        status: s.status,
        counts: tally(counts.filter((r) => r.shard_index === s.shard_index)),
      }));
    },
    async addFiles(jobId, files, shards) {
      if (files.length === 0) return;
      await db.transaction().execute(async (trx) => {
        for (const s of shards) {
          await trx
            .insertInto('import_shard')
            .values({ job_id: jobId, shard_index: s.index, item_count: s.itemCount })
            .onDuplicateKeyUpdate({ item_count: s.itemCount, updated_at: new Date() })
            .execute();
        }
        for (let i = 0; i < files.length; i += 500) {
          await trx
            .insertInto('import_file')
            .values(
              files.slice(i, i + 500).map((f) => ({
                job_id: jobId,
                shard_index: f.shardIndex,
                rel_path_sha256: pathHash(f.relPath),
                rel_path: f.relPath,
                size: f.size,
                mtime_ms: f.mtimeMs,
                camera: f.camera,
                epoch: f.epoch,
                object_key: f.key,
              })),
            )
            .execute();
        }
      });
    },
    resetFile: (id, s) => setFile(id, { status: 'missing', size: s.size, mtime_ms: s.mtimeMs, sha256: null, etag: null, uploaded_at: null, published_at: null }),
    async markUploading(id) {
      await db
        .updateTable('import_file')
        .set((eb) => ({ status: 'uploading', attempts: eb('attempts', '+', 1), error_code: null, last_error: null }))
        .where('id', '=', id)
        .execute();
    },
    recordUploaded: (id, r) =>
      setFile(id, { status: 'uploaded', sha256: r.sha256, etag: r.etag ?? null, size: r.size, mtime_ms: r.mtimeMs, uploaded_at: new Date(), published_at: null }),
    recordFailed: (id, r) => setFile(id, { status: 'failed', error_code: r.code, last_error: r.message.slice(0, 2000) }),
    recordLeftForLater: (id, r) => setFile(id, { status: 'missing', error_code: r.code, last_error: r.message.slice(0, 2000) }),
    markPublished: (id) => setFile(id, { published_at: new Date() }),
    async refreshShard(jobId, shardIndex) {
      const rows = await db
        .selectFrom('import_file')
        .select(['status', (eb) => eb.fn.countAll<number>().as('n')])
        .where('job_id', '=', jobId)
        .where('shard_index', '=', shardIndex)
        .groupBy('status')
        .execute();
      const now = new Date();
      await db.updateTable('import_shard').set({ status: rule(tally(rows)), updated_at: now }).where('job_id', '=', jobId).where('shard_index', '=', shardIndex).execute();
      const shards = await db
        .selectFrom('import_shard')
        .select(['status', (eb) => eb.fn.countAll<number>().as('n')])
        .where('job_id', '=', jobId)
        .groupBy('status')
        .execute();
      await db.updateTable('import_job').set({ status: rule(tally(shards)), updated_at: now }).where('id', '=', jobId).execute();
    },
    async failures(jobId, limit) {
      const rows = await db
        .selectFrom('import_file')
        .select(['rel_path', 'object_key', 'status', 'error_code', 'last_error'])
        .where('job_id', '=', jobId)
        .where((eb) => eb.or([eb('status', '=', 'failed'), eb('error_code', 'is not', null)]))
        .orderBy('id')
        .limit(limit)
        .execute();
      return rows.map((r) => ({ path: r.rel_path, key: r.object_key, status: r.status, code: r.error_code, error: r.last_error }));
    },
  };
}

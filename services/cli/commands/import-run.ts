import { realpath, stat } from 'node:fs/promises';
import { importJobKeyHash, type ImportJobKey, type ImportJobRecord, type ImportRepository, type NewImportFile } from '../../../db/repositories/import.repository.ts';
import type { ImportStatus } from '../../../db/schema.ts';
import type { VideoJob } from '../../../shared/contract/messages.ts';
import { errorCode, errorMessage, PermanentError } from '../../../shared/errors.ts';
import { walkFolder, type FoundFile } from '../import/folder-walk.ts';
import { FileChangingError, uploadHashed } from '../import/hashed-upload.ts';
import { cameraSettings, framesSize, type HookData } from '../import/hook-data.ts';
import { compileNamePattern, matchVideoName, type NamePattern } from '../import/name-pattern.ts';
import { planShards } from '../import/shard-plan.ts';
import { LockTimeoutError, type LockManager } from '../../../shared/lock.ts';
import type { ObjectStore } from '../../../shared/storage/object-store.ts';
import type { ImportProgress } from './import-progress.ts';

export interface ImportDeps {
  repo: ImportRepository;
  store: ObjectStore;
  /** Publishes a transcoder job (the queue's topology declared first). */
  publish(job: VideoJob): Promise<void>;
  progress(total: { files: number; bytes: number }): ImportProgress;
  now(): number;
  newJobId(): string;
  /** Cluster-wide locks: one run per import at a time. */
  locks: LockManager;
  /** Who runs, for the one refused: `pid 4242 on host-a`. */
  runner: string;
}

export interface ImportOptions {
  dir: string;
  /** As given: JavaScript or Python named groups. */
  regex: string;
  /** Lower case, without dots. @default ['avi', 'mp4'] */
  extensions: string[];
  bucket: string;
  hookData: HookData | undefined;
  /** Files per new shard. @default 256 */
  shardSize: number;
  /** Files uploaded at once. @default 4 */
  concurrency: number;
  /** A file modified less than this long ago is still being written and left for later. @default 5s */
  settleMs: number;
}

export interface ImportResult {
  jobId: string;
  resumed: boolean;
  status: ImportStatus;
  uploaded: number;
  /** Already uploaded (not read again), or left for a later run. */
  skipped: number;
  failed: number;
  /** Transcoder jobs published by this run (earlier runs' unpublished ones included). */
  published: number;
  /** Uploaded, but the transcoder job could not be published; the next run publishes it. */
  unpublished: number;
  /** Paths (relative to the folder) whose names gave no camera and epoch. */
  unmatched: string[];
  /** Everything found and not uploaded for a reason, unmatched names included. */
  passedOver: { path: string; reason: string }[];
}

interface Work {
  id: number;
  shard: number;
  file: FoundFile;
  key: string;
  camera: string;
}

/** The key of the lock one run of an import holds from start to end. */
export function importRunLockKey(key: ImportJobKey): string {
  return `import:${importJobKeyHash(key)}`;
}

/** A run of the same import holds its lock: this one is refused, naming that one (and its code, as `vigil` prints the message). */
export class ImportRunningError extends PermanentError {
  constructor(message: string) {
    super('IMPORT_RUNNING', `${message} (IMPORT_RUNNING)`);
  }
}

/**
 * `vigil import <dir>`: walk the folder, name each video by the regex, record the job and
 * its shards, upload each file (hashed from the same read), publish one transcoder job per
 * uploaded file. A second run of the same import resumes: uploaded files are not read
 * again, failed ones and new ones are uploaded, unpublished jobs are published.
 *
 * One run per import at a time, cluster-wide: a run holds the import's lock (GET_LOCK,
 * freed by the server when the process dies, so a killed run never blocks the next) from
 * before the walk to the end. A run that finds it held is refused at once, saying which
 * run holds it: two runs would upload every file and queue every job twice.
 */
export async function runImport(deps: ImportDeps, o: ImportOptions): Promise<ImportResult> {
  const root = await realDirectory(o.dir);
  const re = compileNamePattern(o.regex);
  const key: ImportJobKey = { directory: root, regex: o.regex, extensions: o.extensions, bucket: o.bucket };
  let holding = false;
  try {
    return await deps.locks.withLock(
      importRunLockKey(key),
      async (lost) => {
        holding = true;
        return runLocked(deps, o, root, re, key, lost);
      },
      { timeoutMs: 0 },
    );
  } catch (err) {
    if (!holding && err instanceof LockTimeoutError) throw await alreadyRunning(deps.repo, key);
    throw err;
  }
}

async function alreadyRunning(repo: ImportRepository, key: ImportJobKey): Promise<ImportRunningError> {
  const job = await repo.findJobByKey(key);
  if (job === undefined || job.runner === null || job.runStartedAt === null) {
    return new ImportRunningError(`an import of ${key.directory} with the same regex, extensions and bucket is already running (it is starting); wait for it to end`);
  }
  return new ImportRunningError(
    `import ${job.id} of ${key.directory} is already running (${job.runner}, since ${job.runStartedAt.toISOString()}); wait for it to end (vigil import status ${job.id}) or stop it`,
  );
}

async function runLocked(deps: ImportDeps, o: ImportOptions, root: string, re: NamePattern, key: ImportJobKey, lost: AbortSignal): Promise<ImportResult> {
  const { repo } = deps;
  const { job, resumed } = await repo.findOrCreateJob(key, deps.newJobId());
  await repo.claimRun(job.id, deps.runner);
  try {
    return await runClaimed(deps, o, root, re, job, resumed, lost);
  } finally {
    // Informative only (the lock says who runs); a database gone now must not hide the run's error.
    await repo.endRun(job.id).catch(() => undefined);
  }
}

async function runClaimed(deps: ImportDeps, o: ImportOptions, root: string, re: NamePattern, job: ImportJobRecord, resumed: boolean, lost: AbortSignal): Promise<ImportResult> {
  const { repo } = deps;
  const { files: found, passedOver: walkNotes } = await walkFolder(root, o.extensions);
  lost.throwIfAborted();
  const passedOver = walkNotes.map((n) => ({ path: n.relPath, reason: n.reason }));
  const { named, unmatched } = nameFiles(re, root, found, passedOver);
  await repo.startRun(job.id, { hookData: o.hookData === undefined ? null : JSON.stringify(o.hookData), unmatched: unmatched.length });
  const { todo, unpublished, alreadyUploaded } = await recordFiles(repo, job.id, named, o.shardSize, passedOver);
  let skipped = alreadyUploaded;

  const progress = deps.progress({ files: todo.length, bytes: todo.reduce((s, w) => s + w.file.size, 0) });
  progress.note(
    `${resumed ? 'resuming import' : 'import'} ${job.id}${resumed ? ' (same folder, regex, extensions and bucket)' : ''}: ${todo.length} files to upload, ${alreadyUploaded} already uploaded, ${unmatched.length} unmatched`,
  );
  for (const p of passedOver) progress.note(`passed over ${p.path}: ${p.reason}`);
  let published = 0;
  let publishFailed = 0;
  const publishFor = async (f: Unpublished): Promise<boolean> => {
    const frames = framesSize(cameraSettings(o.hookData, f.camera));
    // The content's hash in the id: the same upload published twice is one job to the
    // transcoder, new content under the key is a new one.
    const videoJob: VideoJob = { jobId: `import:${job.id}:${f.id}:${f.sha256.slice(0, 16)}`, source: { bucket: o.bucket, key: f.key }, ...(frames && { frames }) };
    try {
      await deps.publish(videoJob);
    } catch (err) {
      publishFailed += 1;
      progress.note(`uploaded ${f.key} but could not queue its transcoder job (${errorMessage(err)}); the next run queues it`);
      return false;
    }
    await repo.markPublished(f.id);
    published += 1;
    return true;
  };
  // The outbox's second half for earlier runs: stored, never published.
  for (const f of unpublished) await publishFor(f);

  let uploaded = 0;
  let failed = 0;
  const started = new Set<number>();
  const uploadOne = async (w: Work): Promise<void> => {
    if (deps.now() - w.file.mtimeMs < o.settleMs) {
      const ago = ((deps.now() - w.file.mtimeMs) / 1000).toFixed(1);
      await repo.recordLeftForLater(w.id, { code: 'FILE_CHANGING', message: `modified ${ago} s ago: still being written (--settle)` });
      skipped += 1;
      progress.fileDone('later', `skipped ${w.file.relPath}: modified ${ago} s ago, still being written; left for a later run`, w.file.size);
      return;
    }
    await repo.markUploading(w.id);
    if (!started.has(w.shard)) {
      started.add(w.shard);
      await repo.refreshShard(job.id, w.shard);
    }
    try {
      const up = await uploadHashed(deps.store, o.bucket, w.key, w.file, { metadata: { 'vigil-import-job': job.id }, contentType: contentType(w.file.ext), signal: lost });
      await repo.recordUploaded(w.id, up);
      uploaded += 1;
      progress.fileDone('uploaded', `uploaded ${w.file.relPath} as ${w.key} (sha256 ${up.sha256.slice(0, 12)}…)`, w.file.size);
      await publishFor({ id: w.id, key: w.key, camera: w.camera, sha256: up.sha256 });
    } catch (err) {
      // The lock is lost: another run may start; this one stops (eachLimited rethrows).
      if (lost.aborted) throw lost.reason;
      if (err instanceof FileChangingError) {
        await repo.recordLeftForLater(w.id, { code: err.code, message: err.message });
        skipped += 1;
        progress.fileDone('later', `skipped ${w.file.relPath}: ${err.message}; left for a later run`, w.file.size);
      } else {
        await repo.recordFailed(w.id, { code: errorCode(err), message: errorMessage(err) });
        failed += 1;
        progress.fileDone('failed', `failed ${w.file.relPath}: ${errorMessage(err)}`, w.file.size);
      }
    }
  };
  await eachLimited(todo, o.concurrency, async (w) => {
    lost.throwIfAborted();
    await uploadOne(w);
    await repo.refreshShard(job.id, w.shard);
  });
  progress.end();
  const status = (await repo.findJob(job.id))?.status ?? 'missing';
  return { jobId: job.id, resumed, status, uploaded, skipped, failed, published, unpublished: publishFailed, unmatched, passedOver };
}

type Named = { file: FoundFile; camera: string; epoch: number; key: string };
type Unpublished = { id: number; key: string; camera: string; sha256: string };

/** Each file's camera and epoch from its path; the others are unmatched, with the reason. */
function nameFiles(re: NamePattern, root: string, found: FoundFile[], passedOver: ImportResult['passedOver']): { named: Named[]; unmatched: string[] } {
  const named: Named[] = [];
  const unmatched: string[] = [];
  for (const file of found) {
    const m = matchVideoName(re, file.relPath, `${root}/${file.relPath}`, file.ext);
    if (m.ok) named.push({ file, ...m.video });
    else {
      unmatched.push(file.relPath);
      passedOver.push({ path: file.relPath, reason: m.reason });
    }
  }
  return { named, unmatched };
}

/**
 * The files found against the job's rows: uploaded and unchanged ones are skipped (and
 * their transcoder job queued if it never was), changed, failed and missing ones are to
 * upload, new ones are added to the shards. A new file naming the object of another file
 * of the job is passed over.
 */
async function recordFiles(
  repo: ImportRepository,
  jobId: string,
  named: Named[],
  shardSize: number,
  passedOver: ImportResult['passedOver'],
): Promise<{ todo: Work[]; unpublished: Unpublished[]; alreadyUploaded: number }> {
  const known = new Map((await repo.files(jobId)).map((r) => [r.relPath, r]));
  const keyOwner = new Map([...known.values()].map((r) => [r.key, r.relPath]));
  const todo: Work[] = [];
  const fresh: NewImportFile[] = [];
  const unpublished: Unpublished[] = [];
  let alreadyUploaded = 0;
  for (const n of named) {
    const row = known.get(n.file.relPath);
    if (row === undefined) {
      const owner = keyOwner.get(n.key);
      if (owner !== undefined) {
        passedOver.push({ path: n.file.relPath, reason: `it names the same object (${n.key}) as ${owner}` });
        continue;
      }
      keyOwner.set(n.key, n.file.relPath);
      fresh.push({ relPath: n.file.relPath, size: n.file.size, mtimeMs: n.file.mtimeMs, camera: n.camera, epoch: n.epoch, key: n.key, shardIndex: -1 });
      continue;
    }
    const unchanged = row.size === n.file.size && row.mtimeMs === n.file.mtimeMs;
    if (row.status === 'uploaded' && unchanged) {
      alreadyUploaded += 1;
      if (row.publishedAt === null && row.sha256 !== null) unpublished.push({ id: row.id, key: row.key, camera: row.camera, sha256: row.sha256 });
      continue;
    }
    // Changed since it was uploaded: new content under the same key.
    if (row.status === 'uploaded') await repo.resetFile(row.id, n.file);
    todo.push({ id: row.id, shard: row.shardIndex, file: n.file, key: row.key, camera: row.camera });
  }
  if (fresh.length > 0) {
    const plan = planShards((await repo.shards(jobId)).map((s) => ({ index: s.index, itemCount: s.itemCount })), fresh.length, shardSize);
    fresh.forEach((f, i) => (f.shardIndex = plan.assignments[i]!));
    await repo.addFiles(jobId, fresh, plan.shards);
    const rows = new Map((await repo.files(jobId)).map((r) => [r.relPath, r]));
    const byPath = new Map(named.map((n) => [n.file.relPath, n.file]));
    for (const f of fresh) {
      const r = rows.get(f.relPath)!;
      todo.push({ id: r.id, shard: r.shardIndex, file: byPath.get(f.relPath)!, key: r.key, camera: r.camera });
    }
    for (const s of plan.shards) await repo.refreshShard(jobId, s.index);
  }
  todo.sort((a, b) => a.shard - b.shard || a.id - b.id);
  return { todo, unpublished, alreadyUploaded };
}

async function realDirectory(dir: string): Promise<string> {
  let root: string;
  try {
    root = await realpath(dir);
  } catch (err) {
    throw new PermanentError('IMPORT_DIR', `cannot read ${dir}: ${(err as NodeJS.ErrnoException).code ?? errorMessage(err)}`, err);
  }
  if (!(await stat(root)).isDirectory()) throw new PermanentError('IMPORT_DIR', `${dir} is not a folder`);
  return root;
}

/**
 * Runs `fn` over the items, `limit` at a time, in order. A thrown error (the database gone)
 * stops new work and rejects once the running ones have settled; per-file outcomes are
 * handled inside `fn`.
 */
async function eachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let fatal: unknown;
  const worker = async () => {
    while (fatal === undefined && next < items.length) {
      const item = items[next++]!;
      try {
        await fn(item);
      } catch (err) {
        fatal ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (fatal !== undefined) throw fatal;
}

function contentType(ext: string): string | undefined {
  return { mp4: 'video/mp4', avi: 'video/x-msvideo', mov: 'video/quicktime', mkv: 'video/x-matroska' }[ext];
}

import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rm, statfs } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '../../shared/logger.ts';
import { PermanentError, TransientError, VigilError } from '../../shared/errors.ts';

/**
 * Per-job work folders under `<VIGIL_WORK_DIR>/transcoder/`. A folder's name says which
 * process made it (`job_<pid>_<row id>_<random>_<host>`), so that a process starting up
 * removes the leftovers of crashed runs on its host without touching the folders of a
 * sibling still running there, or of another host sharing the volume.
 */
const HOST = hostname().replace(/[^A-Za-z0-9.-]/g, '_').slice(0, 64) || 'host';
const NAME = /^job_(\d+)_(\d+)_[0-9a-f]+_(.+)$/;

export function jobDirName(pid: number, rowId: number, host = HOST): string {
  return `job_${pid}_${rowId}_${randomBytes(4).toString('hex')}_${host}`;
}

/** Runs `fn` in a fresh folder of its own and removes the folder whatever the outcome. */
export async function withJobDir<T>(root: string, rowId: number, log: Logger, fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = join(root, jobDirName(process.pid, rowId));
  await mkdir(dir, { recursive: true });
  try {
    return await fn(dir);
  } finally {
    // A folder that cannot be removed now is swept at the next start; the job's own
    // outcome must not be replaced by this error.
    await rm(dir, { recursive: true, force: true, maxRetries: 2 }).catch((err: unknown) => log.warn({ err, dir }, 'could not remove the job folder'));
  }
}

/**
 * The error with the job folder taken out of its message (ffprobe names the file it read):
 * the message is recorded in `video_job`, where the folder means nothing.
 */
export function withoutWorkPaths(err: unknown, dir: string): unknown {
  if (!(err instanceof VigilError) || !err.message.includes(dir)) return err;
  const message = err.message.replaceAll(`file:${dir}/`, '').replaceAll(`${dir}/`, '').replaceAll(dir, '.');
  return err.permanent ? new PermanentError(err.code, message, err) : new TransientError(err.code, message, err);
}

/** Removes this host's folders whose process is gone (or is an earlier life of this pid). */
export async function sweepJobDirs(root: string, log: Logger): Promise<string[]> {
  await mkdir(root, { recursive: true });
  const swept: string[] = [];
  for (const name of await readdir(root)) {
    const m = NAME.exec(name);
    if (!m || m[3] !== HOST) continue;
    const pid = Number(m[1]);
    if (pid !== process.pid && isAlive(pid)) continue;
    await rm(join(root, name), { recursive: true, force: true });
    swept.push(name);
  }
  if (swept.length > 0) log.warn({ root, swept: swept.length }, 'removed work folders left by crashed runs');
  return swept;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export async function freeBytes(path: string): Promise<number> {
  const s = await statfs(path);
  return s.bavail * s.bsize;
}

/** Refuses the job while the disk is below the floor: transient, so it is retried later. */
export async function checkFreeDisk(root: string, minBytes: number, free: (path: string) => Promise<number> = freeBytes): Promise<void> {
  if (minBytes <= 0) return;
  const available = await free(root);
  if (available < minBytes) {
    throw new TransientError('LOW_DISK', `only ${formatBytes(available)} free for work files; TRANSCODER_MIN_FREE_DISK is ${formatBytes(minBytes)}`);
  }
}

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${u === 0 ? v : v.toFixed(1)} ${units[u]}`;
}

/**
 * An import job is split into shards of files, as in the seed's batch-import jobs (seed
 * 001): each shard has an item count and a status made from its files'. Pure.
 */

/** A file's, a shard's and a job's status. */
export type ShardStatus = 'missing' | 'uploading' | 'uploaded' | 'failed';

export interface Shard {
  index: number;
  itemCount: number;
}

/** Files per shard. @default 256 */
export const DEFAULT_SHARD_SIZE = 256;

/**
 * Places `newFiles` files after the job's existing shards: the last shard is filled up to
 * `shardSize` first, then new shards follow. Files keep their shard for the life of the
 * job, so a re-run that finds new files never moves old ones.
 * @returns the shard index of each new file, in order, and every shard whose count changed.
 */
export function planShards(existing: readonly Shard[], newFiles: number, shardSize: number): { assignments: number[]; shards: Shard[] } {
  if (!Number.isInteger(shardSize) || shardSize < 1) throw new RangeError('shardSize must be a positive integer');
  const assignments: number[] = [];
  const changed = new Map<number, Shard>();
  const last = existing.reduce<Shard | undefined>((a, s) => (a === undefined || s.index > a.index ? s : a), undefined);
  let current: Shard = last ? { ...last } : { index: 0, itemCount: 0 };
  for (let i = 0; i < newFiles; i++) {
    // A shard grown past a later, smaller --shard-size stays as it is.
    if (current.itemCount >= shardSize) current = { index: current.index + 1, itemCount: 0 };
    current.itemCount += 1;
    changed.set(current.index, current);
    assignments.push(current.index);
  }
  return { assignments, shards: [...changed.values()] };
}

export interface StatusCounts {
  missing: number;
  uploading: number;
  uploaded: number;
  failed: number;
}

/**
 * A shard's status from its files': `failed` when any failed (the others still upload),
 * `uploaded` when all are, `uploading` while any is on its way, `missing` otherwise (none
 * started, or some left for a later run).
 */
export function shardStatus(c: StatusCounts): ShardStatus {
  if (c.failed > 0) return 'failed';
  if (c.uploading > 0) return 'uploading';
  if (c.missing === 0) return 'uploaded';
  return 'missing';
}

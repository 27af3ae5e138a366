import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import type { Command } from 'commander';
import { importRepository, type ImportRepository } from '../../../db/repositories/import.repository.ts';
import { parseHookData, type HookData } from '../import/hook-data.ts';
import { parseExtensions } from '../import/name-pattern.ts';
import { shardStatus, type ShardStatus } from '../import/shard-plan.ts';
import type { LockManager } from '../../../shared/lock.ts';
import { createObjectStore } from '../../../shared/storage/object-store.ts';
import type { CliContext } from '../context.ts';
import { createProgress } from './import-progress.ts';
import { printable } from '../printable.ts';
import { importRunLockKey, runImport, type ImportResult } from './import-run.ts';
import type { ImportCliOptions } from './import.ts';

export async function run(ctx: CliContext, dir: string, opts: ImportCliOptions): Promise<void> {
  if (opts.regex === undefined) throw new Error("--regex is required: named groups camera and epoch, e.g. '.*/(?P<camera>\\w+?)-(?P<epoch>\\d+)\\.mp4'");
  const regex = opts.regex;
  const extensions = parseExtensions(opts.ext);
  const hookData = await readHookData(opts);
  const config = ctx.config();
  const bucket = config.buckets.source;
  const store = createObjectStore(config.s3, {}, { creatableBuckets: [bucket] });
  try {
    await store.ensureBucket(bucket);
    const result = await ctx.withDatabase((db, locks) =>
      ctx.withPublisher((publisher) =>
        runImport(
          {
            repo: importRepository(db, shardStatus),
            store,
            publish: (job) => publisher.publish('transcoder', job, { messageId: job.jobId }),
            progress: (total) => createProgress(ctx.io.err, process.stderr.isTTY === true && !opts.json, total),
            now: Date.now,
            newJobId,
            locks,
            runner: `pid ${process.pid} on ${hostname()}`,
          },
          { dir, regex, extensions, bucket, hookData, shardSize: opts.shardSize, concurrency: opts.concurrency, settleMs: opts.settle ?? 5_000 },
        ),
      ),
    );
    if (result.failed > 0 || result.unpublished > 0) ctx.exitCode = 1;
    ctx.print(!!opts.json, result, () => summary(result));
  } finally {
    store.close();
  }
}

export async function runStatus(ctx: CliContext, jobId: string, own: { json?: boolean }, status: Command): Promise<void> {
  // `import status <id> --json`: the parent `import` has a --json of its own, which
  // takes the flag unless the root program parses options positionally.
  const json = !!own.json || !!status.parent?.opts<{ json?: boolean }>().json;
  const doc = await ctx.withDatabase((db, locks) => statusDocument(importRepository(db, shardStatus), locks, jobId));
  if (doc === undefined) throw new Error(`no import job ${JSON.stringify(jobId.slice(0, 40))}`);
  ctx.print(json, doc, () => statusText(doc));
}

/** 12 characters of a-z and 2-7 (60 bits): printable, easy to type and to select. */
function newJobId(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz234567';
  return [...randomBytes(12)].map((b) => alphabet[b & 31]).join('');
}

async function readHookData(opts: ImportCliOptions): Promise<HookData | undefined> {
  if (opts.hookDataJson !== undefined && opts.hookDataJsonFile !== undefined) {
    throw new Error('give --hook-data-json or --hook-data-json-file, not both');
  }
  if (opts.hookDataJson !== undefined) return parseHookData(opts.hookDataJson, '--hook-data-json');
  if (opts.hookDataJsonFile === undefined) return undefined;
  const path = opts.hookDataJsonFile;
  const text = await readFile(path, 'utf8').catch((err: NodeJS.ErrnoException) => {
    throw new Error(`cannot read --hook-data-json-file ${path}: ${err.code ?? err.message}`);
  });
  return parseHookData(text, `--hook-data-json-file ${path}`);
}

/** Passed-over entries listed in the human summary; --json lists them all. */
const SUMMARY_PASSED_OVER = 20;

/** Names are escaped: anyone who can write to the folder chooses them. */
function summary(r: ImportResult): string {
  const lines = [
    `import ${r.jobId}${r.resumed ? ' (resumed)' : ''}: ${r.uploaded} uploaded, ${r.skipped} skipped, ${r.failed} failed, ${r.unmatched.length} unmatched; ${r.published} transcoder jobs queued; job ${r.status}`,
  ];
  for (const p of r.passedOver.slice(0, SUMMARY_PASSED_OVER)) lines.push(`  passed over ${p.path}: ${p.reason}`);
  if (r.passedOver.length > SUMMARY_PASSED_OVER) lines.push(`  … and ${r.passedOver.length - SUMMARY_PASSED_OVER} more passed over (--json lists them all)`);
  if (r.unpublished > 0) lines.push(`${r.unpublished} uploaded files still wait for their transcoder job: run the same import again`);
  if (r.failed > 0) lines.push(`see: vigil import status ${r.jobId}`);
  return `${lines.map(printable).join('\n')}\n`;
}

/** A job's, or a shard's, status as reported: `interrupted` when files were left `uploading` by a run that is gone. */
type ReportedStatus = ShardStatus | 'interrupted';

interface StatusDocument {
  jobId: string;
  status: ReportedStatus;
  /** The run holding the import now, or null when none does. */
  running: { by: string; since: string | null } | null;
  directory: string;
  regex: string;
  extensions: string[];
  bucket: string;
  runs: number;
  unmatched: number;
  createdAt: string;
  updatedAt: string;
  files: { total: number; missing: number; uploading: number; uploaded: number; failed: number };
  shards: { shardId: number; itemCount: number; status: ReportedStatus; missing: number; uploading: number; uploaded: number; failed: number }[];
  /** Failed files, and files left with a reason (still being written), up to 100. */
  problems: { path: string; key: string; status: string; code: string | null; error: string | null }[];
}

/**
 * The job as it is now. Statuses are made from the files' counts (the stored ones are
 * refreshed only as files finish), and the import's lock tells a live run from a dead one:
 * files still `uploading` with the lock free were left by a run that was killed, so the job
 * reads `interrupted` (the next run resumes it), never `uploading` for ever.
 */
async function statusDocument(repo: ImportRepository, locks: LockManager, jobId: string): Promise<StatusDocument | undefined> {
  const job = await repo.findJob(jobId);
  if (job === undefined) return undefined;
  const shards = await repo.shards(job.id);
  const live = !(await locks.isFree(importRunLockKey(job)));
  const files = { total: 0, missing: 0, uploading: 0, uploaded: 0, failed: 0 };
  for (const s of shards) {
    for (const [k, n] of Object.entries(s.counts)) files[k as keyof typeof files] += n;
    files.total += s.itemCount;
  }
  const shardStatuses = shards.map((s) => shardStatus(s.counts));
  const overall = shardStatus({ missing: 0, uploading: 0, uploaded: 0, failed: 0, ...countOf(shardStatuses) });
  const reported = (st: ShardStatus): ReportedStatus => (!live && st === 'uploading' ? 'interrupted' : st);
  // A live run between two files has none `uploading` at that instant: it still is.
  const jobStatus = shards.length === 0 ? job.status : live && overall === 'missing' ? 'uploading' : reported(overall);
  return {
    jobId: job.id,
    status: jobStatus,
    running: live ? { by: job.runner ?? 'a run that is starting', since: job.runStartedAt?.toISOString() ?? null } : null,
    directory: job.directory,
    regex: job.regex,
    extensions: job.extensions,
    bucket: job.bucket,
    runs: job.runs,
    unmatched: job.unmatched,
    createdAt: job.createdAt.toISOString(),
    updatedAt: job.updatedAt.toISOString(),
    files,
    shards: shards.map((s, i) => ({ shardId: s.index, itemCount: s.itemCount, status: reported(shardStatuses[i]!), ...s.counts })),
    problems: await repo.failures(job.id, 100),
  };
}

function countOf(xs: readonly ShardStatus[]): Partial<Record<ShardStatus, number>> {
  const c: Partial<Record<ShardStatus, number>> = {};
  for (const x of xs) c[x] = (c[x] ?? 0) + 1;
  return c;
}

/** Paths and the regex are escaped: names reach the operator's terminal. */
function statusText(d: StatusDocument): string {
  const state =
    d.running !== null
      ? ` (running: ${d.running.by}${d.running.since === null ? '' : `, since ${d.running.since}`})`
      : d.status === 'interrupted'
        ? ' (no run holds it: run the same import again to resume)'
        : '';
  const out = [
    `import ${d.jobId}: ${d.status}${state}`,
    `  ${d.directory} (${d.extensions.join(', ')}) → ${d.bucket}, regex ${d.regex}`,
    `  ${d.files.total} files: ${d.files.uploaded} uploaded, ${d.files.failed} failed, ${d.files.missing + d.files.uploading} to do; ${d.unmatched} unmatched names in the last of ${d.runs} runs`,
    '  shard  items  status       uploaded  failed',
    ...d.shards.map((s) => `  ${String(s.shardId).padStart(5)}  ${String(s.itemCount).padStart(5)}  ${s.status.padEnd(11)}  ${String(s.uploaded).padStart(8)}  ${String(s.failed).padStart(6)}`),
    ...d.problems.map((p) => `  ${p.status} ${p.path}: ${p.code ?? ''} ${p.error ?? ''}`.trimEnd()),
  ];
  return `${out.map(printable).join('\n')}\n`;
}

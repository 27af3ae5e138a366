import { InvalidArgumentError, type Command } from 'commander';
import { parseDuration } from '../../../shared/config/env-reader.ts';
import { DEFAULT_SHARD_SIZE } from '../import/shard-plan.ts';
import type { CliContext } from '../context.ts';
import { lazyAction } from './lazy.ts';

export interface ImportCliOptions {
  regex?: string;
  /** @default 'avi,mp4' */
  ext: string;
  hookDataJson?: string;
  hookDataJsonFile?: string;
  /** @default 256 */
  shardSize: number;
  /** @default 4 */
  concurrency: number;
  /** @default 5 s */
  settle?: number;
  json?: boolean;
}

export function registerImport(program: Command, ctx: CliContext): void {
  const cmd = program
    .command('import')
    .description('batch-import a folder of camera videos: upload each to BUCKET_SOURCE as <camera>/<epoch>.<ext> and queue a transcoder job per file; re-running the same import resumes it; one run of an import at a time (a second is refused)')
    .argument('<dir>', 'the folder, walked recursively (symbolic links are not followed)')
    // Checked in the action: a required option here would be required of `import status` too.
    .option('--regex <re>', 'named groups camera and epoch, (?<camera>…) or (?P<camera>…); must match the whole path relative to <dir>, or else the absolute path; RE2 syntax, matched in linear time (no back-references or lookaround)')
    .option('--ext <list>', 'extensions to import, comma-separated', 'avi,mp4')
    .option('--hook-data-json <json>', 'settings for every camera with per-camera overrides under "cameras" (img_x_size, img_y_size, img_y_size_extraction, …)')
    .option('--hook-data-json-file <path>', 'the same, from a file')
    .option('--shard-size <n>', 'files per shard of the job', positiveInt(1, 100_000), DEFAULT_SHARD_SIZE)
    .option('--concurrency <n>', 'files uploaded at once', positiveInt(1, 64), 4)
    .option('--settle <duration>', 'a file modified more recently than this is still being written and left for a later run (default: 5s)', duration)
    .option('--json', 'print one JSON document: {"jobId","uploaded","skipped","failed","unmatched":[…],…}')
    .action(lazyAction(ctx, () => import('./import-action.ts')));

  cmd
    .command('status')
    .description('an import job and its shard map')
    .argument('<job-id>', 'as printed by vigil import')
    .option('--json', 'print one JSON document: {"jobId","status","shards":[…],…}')
    .action(lazyAction(ctx, async () => ({ run: (await import('./import-action.ts')).runStatus })));
}

function positiveInt(min: number, max: number): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!/^\d+$/.test(v) || n < min || n > max) throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}`);
    return n;
  };
}

function duration(v: string): number {
  const ms = parseDuration(v);
  if (ms === undefined) throw new InvalidArgumentError('expected a duration such as 0, 5s or 2m');
  return ms;
}

import { InvalidArgumentError, type Command } from 'commander';
import { parseDuration } from '../../../shared/config/env-reader.ts';
import { EXPORT_DAY_MS } from '../../../shared/gallery/face-export-options.ts';
import type { CliContext } from '../context.ts';
import { lazyAction } from './lazy.ts';

/** `vigil export faces`: face crops and their lists as a ZIP (CONTRACT.md, "Command line"). */
export function registerExport(program: Command, ctx: CliContext): void {
  const exp = program.command('export').description('write data out for people to look at');
  exp
    .command('faces')
    .description('a ZIP of the face crops of the snapshots since then, with faces.csv and faces.jsonl (one line per face: snapshot id, lan_id, capture time, box, detection score, result, distance)')
    .requiredOption('--since <duration>', 'how far back, by capture time, e.g. 10d, 36h or 90m', since)
    .requiredOption('--out <file.zip>', 'the archive to write (in an existing folder; written to <file>.partial first)')
    .option('--refused', 'only the snapshots judged and refused (any result but SUCCESS and SUCCESS_MULTIPLE_FACES), those without a face too')
    .option('--lan-id <lan_id>', "only this employee's snapshots")
    .option('--json', 'print one JSON document: {"out","snapshots","faces","bytes"}')
    .action(lazyAction(ctx, () => import('./export-action.ts')));
}

/** parseDuration's units, and days, which is how far back an export usually looks. */
function since(v: string): number {
  const days = /^(\d+(?:\.\d+)?)d$/.exec(v);
  const ms = days ? Math.round(Number(days[1]) * EXPORT_DAY_MS) : parseDuration(v);
  if (ms === undefined || ms <= 0) throw new InvalidArgumentError('expected a duration such as 10d, 36h or 90m');
  return ms;
}

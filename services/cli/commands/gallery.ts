import { InvalidArgumentError, type Command } from 'commander';
import type { CliContext } from '../context.ts';
import { lazyAction } from './lazy.ts';
import { registerGalleryAcceptDuplicate } from './gallery-accept-duplicate.ts';

/**
 * `vigil gallery …`: the employee's gallery and the people's decisions about it (CONTRACT.md,
 * "Gallery"). The decisions are shared/gallery's, the same the console calls; each names the
 * console account that makes it (`--by`), which must hold the role.
 */
export function registerGallery(program: Command, ctx: CliContext): void {
  const action = (name: keyof typeof import('./gallery-action.ts')) => lazyAction(ctx, () => import('./gallery-action.ts').then((m) => ({ run: m[name] as (ctx: CliContext, ...args: unknown[]) => Promise<void> })));
  // The group's own options (`--json` of the bare `vigil gallery <lan_id>`) come before a
  // subcommand, so a subcommand's `--json` is its own.
  program.enablePositionalOptions();
  const gallery = program
    .command('gallery')
    .enablePositionalOptions()
    .description("an employee's gallery of faces and the decisions about it; with a lan_id alone, shows the gallery")
    .argument('[lan_id]', 'the employee')
    .option('--json', 'print one JSON document')
    .action(action('show'));
  gallery
    .command('propose')
    .description("propose a snapshot's face for the employee's gallery (a supervisor; a team lead approves)")
    .argument('<lan_id>', 'the employee')
    .requiredOption('--snapshot <stream_img id>', 'the snapshot', positiveInt)
    .requiredOption('--by <user>', 'the console account proposing (supervisor or above)')
    .option('--face <index>', "which face of the snapshot (default: the one its verdict compared, or the only one)", nonNegativeInt)
    .option('--json', 'print one JSON document')
    .action(action('propose'));
  gallery
    .command('approve')
    .description('approve a proposal: the face becomes a train_img row that facetraining checks like any enrolment (a team lead, not the proposer)')
    .argument('<proposal_id>', 'the proposal', positiveInt)
    .requiredOption('--by <user>', 'the console account approving (team lead or above)')
    .option('--json', 'print one JSON document')
    .action(action('approve'));
  gallery
    .command('reject')
    .description('reject a proposal, with the reason (a team lead, not the proposer)')
    .argument('<proposal_id>', 'the proposal', positiveInt)
    .requiredOption('--by <user>', 'the console account rejecting (team lead or above)')
    .requiredOption('--reason <text>', 'why')
    .option('--json', 'print one JSON document')
    .action(action('reject'));
  gallery
    .command('remove')
    .description('take a face out of the gallery: kept for the audit, no longer compared (undo: restore)')
    .argument('<train_img_id>', 'the gallery face', positiveInt)
    .requiredOption('--by <user>', 'the console account (team lead or above)')
    .option('--reason <text>', 'why')
    .option('--json', 'print one JSON document')
    .action(action('remove'));
  gallery
    .command('restore')
    .description('put a removed face back into the gallery')
    .argument('<train_img_id>', 'the gallery face', positiveInt)
    .requiredOption('--by <user>', 'the console account (team lead or above)')
    .option('--json', 'print one JSON document')
    .action(action('restore'));
  gallery
    .command('not-this')
    .description("record that a snapshot's face is not this employee: a later face closer to it than to the gallery is not a success")
    .argument('<lan_id>', 'the employee')
    .requiredOption('--snapshot <stream_img id>', 'the snapshot', positiveInt)
    .requiredOption('--by <user>', 'the console account (supervisor or above)')
    .option('--face <index>', 'which face of the snapshot (default: the one its verdict compared, or the only one)', nonNegativeInt)
    .option('--json', 'print one JSON document')
    .action(action('notThis'));
  gallery
    .command('threshold')
    .description("show the employee's threshold with a suggestion from their history, or set it (a number within the bounds, or 'default')")
    .argument('<lan_id>', 'the employee')
    .argument('[value]', "the new threshold, or 'default'", thresholdValue)
    .option('--by <user>', 'the console account setting it (team lead or above)')
    .option('--reason <text>', 'why')
    .option('--json', 'print one JSON document')
    .action(action('threshold'));
  gallery
    .command('dry-run')
    .description("re-score the employee's last snapshots against a proposed gallery or threshold and report which results would change; writes nothing")
    .argument('<lan_id>', 'the employee')
    .option('--last <n>', 'how many of the newest snapshots', positiveInt, 200)
    .option('--threshold <value>', 'as if this threshold were set', thresholdNumber)
    .option('--add-proposal <proposal_id...>', 'as if these pending proposals were approved', collectInts)
    .option('--remove <train_img_id...>', 'as if these faces were removed', collectInts)
    .option('--restore <train_img_id...>', 'as if these removed faces were restored', collectInts)
    .option('--json', 'print one JSON document')
    .action(action('dryRun'));
  registerGalleryAcceptDuplicate(gallery, ctx);
}

function positiveInt(v: string): number {
  if (!/^[1-9][0-9]{0,17}$/.test(v)) throw new InvalidArgumentError('expected a positive whole number');
  return Number(v);
}

function nonNegativeInt(v: string): number {
  if (!/^(0|[1-9][0-9]{0,3})$/.test(v)) throw new InvalidArgumentError('expected a face index: 0, 1, …');
  return Number(v);
}

function thresholdNumber(v: string): number {
  const n = Number(v);
  if (!/^[0-9.]+$/.test(v) || !Number.isFinite(n)) throw new InvalidArgumentError('expected a distance such as 0.55');
  return n;
}

function thresholdValue(v: string): number | 'default' {
  return v === 'default' ? v : thresholdNumber(v);
}

function collectInts(v: string, prev: number[] | undefined): number[] {
  return [...(prev ?? []), positiveInt(v)];
}

import { DEFAULT_RESCUE_INTERVAL_MS } from '../../config.ts';
import { rescueOrphans } from '../../../shared/runtime/orphan-rescue.ts';
import type { Publisher } from '../../../shared/runtime/publisher.ts';
import type { CliContext } from '../context.ts';

export async function run(ctx: CliContext, opts: { olderThan?: number; dryRun?: boolean; json?: boolean }): Promise<void> {
  const config = ctx.config();
  const ageMs = opts.olderThan ?? config.rescueAgeMs;
  const now = new Date();
  const dryRun = !!opts.dryRun;
  // Forced: the operator asked for it now. The back-off record is still counted, so the
  // scheduled rescue waits longer after it rather than republishing at once.
  const rescueOpts = { cutoff: new Date(now.getTime() - ageMs), now, baseDelayMs: rescueBackoffUnitMs(config.upkeep.rescueIntervalMs), force: true };
  const found = await ctx.withDatabase((db, locks) => {
    const rescue = (publisher: Publisher | undefined) => rescueOrphans({ db, locks, publisher, log: ctx.logger() }, rescueOpts);
    return dryRun ? rescue(undefined) : ctx.withPublisher(rescue);
  });
  const doc = { dryRun, olderThanMs: ageMs, forced: true, ...found };
  ctx.print(!!opts.json, doc, () =>
    `${dryRun ? 'would republish' : 'republished'} ${found.train.length} train_img, ${found.stream.length} stream_img, ${found.videoJobs.length} video jobs and ${found.alerts.length} alerts idle for more than ${Math.round(ageMs / 1000)} s\n` +
      (dryRun
        ? `forced: rows the scheduled rescue is backing off from would be republished as well (${found.backingOff} here); a dry run publishes and counts nothing\n`
        : `forced: rows the scheduled rescue is backing off from are republished too (${found.backingOff} here); the republish counts in each row's back-off\n`),
  );
}

/**
 * The back-off unit a forced rescue records: the scheduled rescue's interval, or its default
 * when it is off (an interval of 0 would give every row a back-off of 0, and a scheduled
 * rescue turned back on would republish at once what the operator just did).
 */
function rescueBackoffUnitMs(rescueIntervalMs: number): number {
  return rescueIntervalMs > 0 ? rescueIntervalMs : DEFAULT_RESCUE_INTERVAL_MS;
}

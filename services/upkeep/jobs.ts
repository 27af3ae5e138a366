import { publishNotification } from '../../shared/runtime/alert-outbox.ts';
import type { Kysely } from 'kysely';
import type { LastRun } from '../../db/repositories/scheduled-job.repository.ts';
import { rowRetentionRepository } from '../../db/repositories/row-retention.repository.ts';
import { upkeepRepository } from '../../db/repositories/upkeep.repository.ts';
import type { Database } from '../../db/schema.ts';
import type { UpkeepConfig } from './config.ts';
import type { ConsoleLinks } from '../../shared/contract/console-links.ts';
import { vigilNotificationKey, type Notification } from '../../shared/contract/messages.ts';
import type { LockManager } from '../../shared/lock.ts';
import type { Logger } from '../../shared/logger.ts';
import { rescueOrphans } from '../../shared/runtime/orphan-rescue.ts';
import type { Publisher } from '../../shared/runtime/publisher.ts';
import { runRollup } from './rollup.ts';
import { KeepStateError, type ScheduledJob } from './scheduler.ts';

export interface UpkeepDeps {
  db: Kysely<Database>;
  locks: LockManager;
  publisher: Pick<Publisher, 'publish'>;
  log: Logger;
  config: UpkeepConfig;
  /** From `CONSOLE_URL`: the digest links to the review queue. */
  links?: Pick<ConsoleLinks, 'queue'>;
  /** `VIGIL_RESCUE_AGE`. */
  rescueAgeMs: number;
  /** Messages in each `.dlq` (logical names, `transcoder.dlq`). */
  deadLetters(): Promise<{ queue: string; count: number }[]>;
  now?: () => Date;
}

const RETENTION_BATCH = 500;
/** Snapshot rows deleted per transaction: each holds its row locks for a few milliseconds. */
const ROW_RETENTION_BATCH = 500;

/**
 * The jobs of the scheduled upkeep, each run once per interval cluster-wide by the
 * scheduler: orphan rescue, the `work_pending` digest and the `dead_letters` alert (both to
 * the supervisors, through the notifier queue like any notification), and the retention of
 * snapshot bytes.
 */
export function upkeepJobs(d: UpkeepDeps): ScheduledJob[] {
  const now = d.now ?? (() => new Date());
  const repo = upkeepRepository(d.db);
  const route = d.config.supervisors;
  const notify = (n: Omit<Notification, 'channel' | 'to'>) => {
    const full: Notification = { channel: route.channel, to: route.to, ...n };
    return publishNotification(d.publisher, full);
  };
  const supervised = route.to.length > 0;
  if (!supervised) d.log.info('NOTIFIER_SUPERVISORS is empty: no work_pending digest and no dead_letters alert');
  return [
    {
      name: 'orphan_rescue',
      intervalMs: d.config.rescueIntervalMs,
      async run() {
        const at = now();
        const r = await rescueOrphans(
          { db: d.db, locks: d.locks, publisher: d.publisher, log: d.log },
          { cutoff: new Date(at.getTime() - d.rescueAgeMs), now: at, baseDelayMs: d.config.rescueIntervalMs },
        );
        const total = r.train.length + r.stream.length + r.videoJobs.length + r.alerts.length;
        if (total > 0) d.log.info({ train: r.train.length, stream: r.stream.length, videoJobs: r.videoJobs.length, alerts: r.alerts.length, backingOff: r.backingOff }, 'orphans republished');
        return undefined;
      },
    },
    {
      name: 'work_pending',
      intervalMs: supervised ? d.config.digestIntervalMs : 0,
      // The window runs from where the last digest confirmed by the broker ended (kept in the
      // job's state only once the publish is confirmed), so nothing falls between two and a
      // failed publish is reported by the next run, whose window starts where this one did.
      async run(_signal, last) {
        const until = now();
        const since = reportedUntil(last) ?? new Date(until.getTime() - d.config.digestIntervalMs);
        const reported = JSON.stringify({ reportedUntil: until.toISOString() });
        const counts = await repo.workPendingCounts(since);
        const folded = await repo.foldedAlertsSince(since);
        if (Object.keys(counts).length === 0 && folded === 0) return reported;
        try {
          await notify({
            template: 'work_pending',
            data: { since: since.toISOString(), counts, folded, ...(d.links && { reviewUrl: d.links.queue() }) },
            // Both ends: a retry covers a longer window than the attempt that failed, and if
            // that one did reach the notifier the retry must not be taken for its duplicate.
            idempotencyKey: vigilNotificationKey(`work_pending-${since.toISOString()}-${until.toISOString()}`),
          });
        } catch (err) {
          throw new KeepStateError(err, JSON.stringify({ reportedUntil: since.toISOString() }));
        }
        return reported;
      },
    },
    {
      name: 'dead_letters',
      intervalMs: supervised ? d.config.deadLetterIntervalMs : 0,
      // Alerted when a `.dlq` fills and again when the counts change, not at every check.
      async run(_signal, last) {
        const queues = (await d.deadLetters()).filter((q) => q.count > 0);
        const state = JSON.stringify(queues);
        if (queues.length > 0 && state !== last?.state) {
          await notify({ template: 'dead_letters', data: { queues }, idempotencyKey: vigilNotificationKey(`dead_letters-${now().toISOString()}`) });
        }
        return state;
      },
    },
    {
      name: 'retention',
      intervalMs: d.config.streamImageRetentionDays > 0 ? d.config.retentionIntervalMs : 0,
      async run(signal) {
        const cutoff = new Date(now().getTime() - d.config.streamImageRetentionDays * 24 * 3_600_000);
        let removed = 0;
        for (let n = RETENTION_BATCH; n === RETENTION_BATCH && !signal.aborted; removed += n) n = await repo.removeOldStreamImages(cutoff, RETENTION_BATCH);
        if (removed > 0) d.log.info({ removed, olderThanDays: d.config.streamImageRetentionDays }, 'snapshot image bytes removed');
        return undefined;
      },
    },
    {
      // Monthly partitions of stream_img were not chosen: neither server partitions a table
      // with foreign keys (the contract's snapshot_face and face_alert point at it), every
      // unique key would have to carry capture_time, which a producer sets freely, and
      // dropping a month would drop unjudged and uncounted rows with it. Small batches on
      // the capture_time index bound the table with no change to it.
      name: 'row_retention',
      intervalMs: d.config.streamRowRetentionDays > 0 ? d.config.retentionIntervalMs : 0,
      async run(signal) {
        const cutoff = new Date(now().getTime() - d.config.streamRowRetentionDays * 24 * 3_600_000);
        const rows = rowRetentionRepository(d.db);
        let removed = 0;
        for (let n = ROW_RETENTION_BATCH; n === ROW_RETENTION_BATCH && !signal.aborted; removed += n) n = await rows.deleteOldSnapshots(cutoff, ROW_RETENTION_BATCH);
        if (removed > 0) d.log.info({ removed, olderThanDays: d.config.streamRowRetentionDays }, 'old snapshot rows deleted (counted in the report roll-ups)');
        return undefined;
      },
    },
    {
      name: 'report_rollup',
      intervalMs: d.config.reportRollupIntervalMs,
      async run(signal) {
        const r = await runRollup(d.db, { signal });
        if (r.counted > 0 || r.closed > 0) d.log.debug(r, 'report roll-ups advanced');
        return undefined;
      },
    },
  ];
}

/**
 * Where the last digest's window ended. Runs recorded before the window was kept in the
 * state (state null) started their successor's window at their own start.
 */
function reportedUntil(last: LastRun | undefined): Date | undefined {
  if (!last) return undefined;
  let until: unknown;
  try {
    until = last.state === null ? undefined : (JSON.parse(last.state) as { reportedUntil?: unknown }).reportedUntil;
  } catch {
    until = undefined;
  }
  const at = typeof until === 'string' ? new Date(until) : undefined;
  return at && !Number.isNaN(at.getTime()) ? at : last.startedAt;
}

import type { Kysely } from 'kysely';
import { upkeepRepository } from '../../db/repositories/upkeep.repository.ts';
import type { Database } from '../../db/schema.ts';
import type { UpkeepConfig } from '../../shared/config/notifier-config.ts';
import { CODECS, type Notification } from '../../shared/contract/messages.ts';
import type { LockManager } from '../../shared/lock.ts';
import type { Logger } from '../../shared/logger.ts';
import { rescueOrphans } from '../../shared/runtime/orphan-rescue.ts';
import type { Publisher } from '../../shared/runtime/publisher.ts';
import type { ScheduledJob } from '../../shared/runtime/scheduler.ts';

export interface UpkeepDeps {
  db: Kysely<Database>;
  locks: LockManager;
  publisher: Publisher;
  log: Logger;
  config: UpkeepConfig;
  /** `VIGIL_RESCUE_AGE`. */
  rescueAgeMs: number;
  /** Messages in each `.dlq` (logical names, `transcoder.dlq`). */
  deadLetters(): Promise<{ queue: string; count: number }[]>;
  now?: () => Date;
}

const RETENTION_BATCH = 500;

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
    return d.publisher.sendToQueue('notifier', CODECS.notifier.encode(full), { messageId: full.idempotencyKey, contentType: 'application/json' });
  };
  const supervised = route.to.length > 0;
  if (!supervised) d.log.info('NOTIFIER_SUPERVISORS is empty: no work_pending digest and no dead_letters alert');
  return [
    {
      name: 'orphan_rescue',
      intervalMs: d.config.rescueIntervalMs,
      async run() {
        const r = await rescueOrphans({ db: d.db, locks: d.locks, publisher: d.publisher, log: d.log }, new Date(now().getTime() - d.rescueAgeMs));
        const total = r.train.length + r.stream.length + r.videoJobs.length + r.alerts.length;
        if (total > 0) d.log.info({ train: r.train.length, stream: r.stream.length, videoJobs: r.videoJobs.length, alerts: r.alerts.length }, 'orphans republished');
        return undefined;
      },
    },
    {
      name: 'work_pending',
      intervalMs: supervised ? d.config.digestIntervalMs : 0,
      // The window runs from the previous digest's start, so nothing falls between two.
      async run(_signal, last) {
        const since = last?.startedAt ?? new Date(now().getTime() - d.config.digestIntervalMs);
        const counts = await repo.workPendingCounts(since);
        const folded = await repo.foldedAlertsSince(since);
        if (Object.keys(counts).length === 0 && folded === 0) return undefined;
        await notify({ template: 'work_pending', data: { since: since.toISOString(), counts, folded }, idempotencyKey: `work_pending-${since.toISOString()}` });
        return undefined;
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
          await notify({ template: 'dead_letters', data: { queues }, idempotencyKey: `dead_letters-${now().toISOString()}` });
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
  ];
}

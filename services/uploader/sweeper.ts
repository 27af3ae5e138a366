import type { UploaderRepository } from '../../db/repositories/uploader.repository.ts';
import { CODECS, type UploadJob } from '../../shared/contract/messages.ts';
import { errorCode, errorMessage } from '../../shared/errors.ts';
import type { Logger } from '../../shared/logger.ts';

export interface SweeperDeps {
  repo: Pick<UploaderRepository, 'claimDue' | 'recordFailure'>;
  /** Publishes the job to the uploader queue (confirmed). */
  publish(job: UploadJob, messageId: string): Promise<void>;
  intervalMs: number;
  log: Logger;
  now?: () => Date;
}

/** A claim whose publish failed is taken again after this long (the broker was down). */
const claimLeaseMs = (intervalMs: number) => Math.max(5 * intervalMs, 60_000);
const PAGE = 100;

/**
 * Queues again the jobs of postponed uploads that are due, so a throttled upload neither
 * holds a consumer for hours nor is lost: the job waits in its row. Safe with several
 * replicas: each row is claimed by an UPDATE only one of them wins.
 */
export function startSweeper(d: SweeperDeps): { sweep(): Promise<number>; stop(): Promise<void> } {
  let running: Promise<number> | undefined;
  let stopped = false;
  const sweep = async (): Promise<number> => {
    let published = 0;
    for (;;) {
      const due = await d.repo.claimDue(d.now?.() ?? new Date(), claimLeaseMs(d.intervalMs), PAGE);
      for (const row of due) {
        let job: UploadJob;
        try {
          job = CODECS.uploader.parse(Buffer.from(row.job));
        } catch (err) {
          // Stored when a consumer took it; a later version's codec may refuse it. Failed for
          // good and said so, instead of claimed again at every sweep.
          await d.repo.recordFailure(row.id, { status: 'failed', code: errorCode(err), message: `the postponed job is no longer a valid upload job: ${errorMessage(err)}` });
          d.log.warn({ uploadId: row.id, code: errorCode(err) }, 'postponed upload job no longer valid; failed');
          continue;
        }
        await d.publish(job, `upload-${row.id}-retry-${row.postponements}`);
        published++;
      }
      if (due.length < PAGE || stopped) break;
    }
    if (published > 0) d.log.info({ published }, 'postponed uploads queued again');
    return published;
  };
  const tick = () => {
    if (running || stopped) return;
    running = sweep()
      .catch((err: unknown) => {
        d.log.warn({ err }, 'sweeping postponed uploads failed; trying again at the next interval');
        return 0;
      })
      .finally(() => (running = undefined));
  };
  const timer = setInterval(tick, d.intervalMs);
  timer.unref();
  return {
    sweep,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}

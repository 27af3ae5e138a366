import { scheduledJobRepository } from '../../db/repositories/scheduled-job.repository.ts';
import { topologyOptions, type AppContext, type ServiceModule } from '../../shared/app/app-context.ts';
import type { ConsoleConfig } from '../../shared/config/console-config.ts';
import type { PlatformConfig } from '../../shared/config/platform-config.ts';
import { consoleLinks } from '../../shared/contract/console-links.ts';
import type { UpkeepConfig } from './config.ts';
import { QUEUE_NAMES } from '../../shared/contract/queue-names.ts';
import { TransientError } from '../../shared/errors.ts';
import { queueDepth } from '../../shared/runtime/queue-depth.ts';
import { describeTopology } from '../../shared/runtime/topology.ts';
import { upkeepJobs } from './jobs.ts';
import { startScheduler, type Scheduler } from './scheduler.ts';

/**
 * The scheduled jobs (orphan rescue, the `work_pending` digest, the dead-letter alert,
 * snapshot retention): no queue of its own. Every replica runs the scheduler; each job's
 * lock lets one of them run it per interval, cluster-wide.
 */
/** Reads CONSOLE_URL (the console's section) for the digest's link to the review queue. */
export const service: ServiceModule<PlatformConfig & { upkeep: UpkeepConfig; console: Pick<ConsoleConfig, 'url'> }> = {
  name: 'upkeep',
  async create(app) {
    const log = app.logger.child({ service: 'upkeep' });
    const jobs = upkeepJobs({
      db: app.database.db,
      locks: app.locks,
      publisher: app.publisher,
      log,
      config: app.config.upkeep,
      links: app.config.console.url === undefined ? undefined : consoleLinks(app.config.console.url),
      rescueAgeMs: app.config.rescueAgeMs,
      deadLetters: () => deadLetterCounts(app),
    });
    let scheduler: Scheduler | undefined;
    return {
      async start() {
        scheduler = startScheduler({
          jobs,
          locks: app.locks,
          repo: scheduledJobRepository(app.database.db),
          runner: app.workerName,
          log,
          tickMs: app.config.upkeep.tickMs,
        });
      },
      ready: () => scheduler !== undefined,
      async close() {
        await scheduler?.stop();
      },
    };
  },
};

/** Messages in each queue's `.dlq`, by logical name; a queue never declared counts 0. */
async function deadLetterCounts(app: AppContext): Promise<{ queue: string; count: number }[]> {
  const conn = app.broker.connection;
  if (!conn) throw new TransientError('BROKER_UNAVAILABLE', 'not connected to the broker');
  const out: { queue: string; count: number }[] = [];
  for (const q of QUEUE_NAMES) {
    const depth = await queueDepth(conn, describeTopology(q, topologyOptions(app.config)).dlq);
    out.push({ queue: `${q}.dlq`, count: depth?.messages ?? 0 });
  }
  return out;
}

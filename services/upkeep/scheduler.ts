import type { LastRun, ScheduledJobRepository } from '../../db/repositories/scheduled-job.repository.ts';
import { LockTimeoutError, type LockManager } from '../../shared/lock.ts';
import { errorCode, errorMessage } from '../../shared/errors.ts';
import type { Logger } from '../../shared/logger.ts';

export interface ScheduledJob {
  name: string;
  /** Runs at most once per interval cluster-wide; 0 turns the job off. */
  intervalMs: number;
  /**
   * One run. `last` is the previous run (its start and the state it returned); the value
   * returned is kept as the next run's state (undefined keeps the old one). A run that
   * fails keeps the old state, unless it throws a KeepStateError with the state to keep.
   */
  run(signal: AbortSignal, last: LastRun | undefined): Promise<string | undefined>;
}

/**
 * A failed run that still has state for the next one: what it did not get done (the
 * `work_pending` digest: the start of the window it could not report).
 */
export class KeepStateError extends Error {
  readonly code: string;
  readonly state: string;

  constructor(
    cause: unknown,
    state: string,
  ) {
    super(errorMessage(cause), { cause });
    this.state = state;
    this.name = 'KeepStateError';
    this.code = errorCode(cause);
  }
}

export interface SchedulerDeps {
  jobs: readonly ScheduledJob[];
  locks: LockManager;
  repo: ScheduledJobRepository;
  runner: string;
  log: Logger;
  /** How often each replica looks for due jobs. @default 15s */
  tickMs?: number;
  now?: () => Date;
}

export interface Scheduler {
  /** Runs the jobs due now, here, unless another runner holds them; the names of those run. */
  runDue(): Promise<string[]>;
  stop(): Promise<void>;
}

/**
 * Named jobs at intervals, with exactly one runner cluster-wide: each replica ticks, and a
 * due job is run by whoever takes its lock (`GET_LOCK` with no wait: the others skip it)
 * and finds, under the lock, that its last start is an interval old. A runner that dies
 * mid-run frees the lock with its connection; the job runs again at the next interval.
 */
export function startScheduler(deps: SchedulerDeps, opts: { autoStart?: boolean } = {}): Scheduler {
  const now = deps.now ?? (() => new Date());
  const jobs = deps.jobs.filter((j) => j.intervalMs > 0);
  const stopping = new AbortController();
  let running: Promise<string[]> = Promise.resolve([]);
  const log = deps.log.child({ component: 'scheduler' });

  async function runOne(job: ScheduledJob): Promise<boolean> {
    try {
      return await deps.locks.withLock(
        `schedule:${job.name}`,
        async (lockLost) => {
          const last = await deps.repo.lastRun(job.name);
          const started = now();
          if (last && started.getTime() - last.startedAt.getTime() < job.intervalMs) return false;
          await deps.repo.recordStart(job.name, { startedAt: started, runner: deps.runner });
          try {
            const state = await job.run(AbortSignal.any([lockLost, stopping.signal]), last);
            await deps.repo.recordFinish(job.name, { finishedAt: now(), state });
          } catch (err) {
            const state = err instanceof KeepStateError ? err.state : undefined;
            await deps.repo.recordFinish(job.name, { finishedAt: now(), state, errorCode: errorCode(err), errorMessage: errorMessage(err) });
            log.warn({ job: job.name, err }, 'scheduled job failed; it runs again at its next interval');
          }
          return true;
        },
        { timeoutMs: 0 },
      );
    } catch (err) {
      if (err instanceof LockTimeoutError) return false;
      log.warn({ job: job.name, err }, 'scheduled job could not be started');
      return false;
    }
  }

  const runDue = (): Promise<string[]> => {
    running = running.then(async () => {
      const ran: string[] = [];
      for (const job of jobs) if (!stopping.signal.aborted && (await runOne(job))) ran.push(job.name);
      return ran;
    });
    return running;
  };

  let timer: NodeJS.Timeout | undefined;
  if ((opts.autoStart ?? true) && jobs.length > 0) {
    timer = setInterval(() => void runDue(), deps.tickMs ?? 15_000);
    timer.unref();
  }
  return {
    runDue,
    async stop() {
      clearInterval(timer);
      stopping.abort(new Error('shutting down'));
      await running.catch(() => undefined);
    },
  };
}

import { setTimeout as sleep } from 'node:timers/promises';
import { VigilError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { describeFailure, runCheck, type CheckResult, type HostCheck } from './checks/check.ts';

/** A start that cannot succeed as things are: the message is the one line to print. */
export class StartupError extends VigilError {
  readonly result: CheckResult;

  constructor(result: CheckResult) {
    super('STARTUP_FAILED', describeFailure(result), { permanent: true });
    this.result = result;
    this.name = 'StartupError';
  }
}

export interface StartupCheckOptions {
  logger: Logger;
  /** Back-off while a dependency is unreachable, doubled each time. */
  retryMinMs: number;
  retryMaxMs: number;
  /** Per check. @default 20_000 */
  timeoutMs?: number;
  /** Aborted by SIGTERM during start: stop waiting. */
  signal?: AbortSignal;
}

/**
 * `vigil run`'s side of the doctor: the checks in order; the first hard failure throws a
 * `StartupError` (restarting cannot help: ffmpeg missing, schema behind), while a
 * dependency that does not answer is waited for with back-off, logged each time, since in
 * a compose stack the database or the broker may simply start later.
 */
export async function passStartupChecks(checks: HostCheck[], opts: StartupCheckOptions): Promise<void> {
  for (const check of checks) {
    for (let delay = opts.retryMinMs; ; delay = Math.min(opts.retryMaxMs, delay * 2)) {
      opts.signal?.throwIfAborted();
      const results = await runCheck(check, opts.timeoutMs ?? 20_000);
      const hard = results.find((r) => r.status === 'fail' && !r.unreachable);
      if (hard) throw new StartupError(hard);
      const waiting = results.filter((r) => r.status === 'fail');
      for (const r of results) if (r.status === 'warn') opts.logger.warn({ check: r.name, detail: r.detail, fix: r.fix }, 'start-up check warns');
      if (waiting.length === 0) {
        opts.logger.info({ check: check.name, results: results.map((r) => `${r.name}: ${r.detail}`) }, 'start-up check passed');
        break;
      }
      for (const r of waiting) opts.logger.warn({ check: r.name, detail: r.detail, fix: r.fix, retryInMs: delay }, `waiting for ${r.name}: not ready`);
      await sleep(delay, undefined, opts.signal ? { signal: opts.signal } : undefined);
    }
  }
}

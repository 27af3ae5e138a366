import type { Logger } from '../logger.ts';
import type { RunningApp } from './run-services.ts';

/** EX_SOFTWARE from sysexits.h: an internal error (here, an uncaught exception). */
export const EXIT_SOFTWARE = 70;

/**
 * Process-level wiring for `vigil run`:
 * - SIGTERM/SIGINT stop gracefully and exit 0.
 * - An uncaught exception leaves Node in an undefined state: stop taking messages, let
 *   in-flight jobs finish or be requeued (the broker redelivers them elsewhere), and exit
 *   70, so the supervisor restarts a clean process.
 * - A stray rejected promise is logged and the process keeps running: unlike a thrown
 *   exception it unwinds nothing half-way.
 * If stopping itself hangs, the process exits anyway once the shutdown timeout and a grace
 * period have passed.
 */
export function installProcessHandlers(running: RunningApp, logger: Logger, opts: { graceMs?: number } = {}): void {
  let exitCode: number | undefined;
  const stop = (code: number) => {
    if (exitCode !== undefined) {
      exitCode = Math.max(exitCode, code);
      return;
    }
    exitCode = code;
    const deadline = running.app.config.shutdownTimeoutMs + (opts.graceMs ?? 15_000);
    setTimeout(() => {
      logger.error({ deadlineMs: deadline }, 'shutdown did not finish in time; exiting');
      process.exit(exitCode ?? 1);
    }, deadline).unref();
    running.stop().then(
      () => process.exit(exitCode),
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(Math.max(exitCode ?? 1, 1));
      },
    );
  };
  process.on('unhandledRejection', (reason) => logger.error({ err: reason }, 'unhandled rejection (kept running)'));
  process.on('uncaughtException', (err) => {
    logger.fatal({ err }, `uncaught exception: stopping, in-flight messages finish or are requeued; exit ${EXIT_SOFTWARE}`);
    stop(EXIT_SOFTWARE);
  });
  const onSignal = (signal: NodeJS.Signals) => {
    logger.info({ signal }, 'signal received');
    stop(0);
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
}

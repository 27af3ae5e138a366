import type { Logger } from '../logger.ts';
import type { RunningApp } from './run-services.ts';

/**
 * Process-level wiring for `vigil run`: SIGTERM/SIGINT stop gracefully and exit 0; a stray
 * rejected promise or emitter error is logged, never the end of the process.
 */
export function installProcessHandlers(running: RunningApp, logger: Logger): void {
  process.on('unhandledRejection', (reason) => logger.error({ err: reason }, 'unhandled rejection (kept running)'));
  process.on('uncaughtException', (err) => logger.fatal({ err }, 'uncaught exception (kept running)'));
  const onSignal = (signal: NodeJS.Signals) => {
    logger.info({ signal }, 'signal received');
    running.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
}

import { createLogger } from '../../../shared/logger.ts';
import { createAppContext } from '../../../shared/app/app-context.ts';
import { hostChecks } from '../../../shared/app/checks/service-checks.ts';
import { faceAnalyzerFor } from '../../../shared/app/face-analyzer-for.ts';
import { installProcessHandlers } from '../../../shared/app/process-handlers.ts';
import { runServices } from '../../../shared/app/run-services.ts';
import { StartupError } from '../../../shared/app/startup.ts';
import { loadServices, needsOf, resolveServices } from '../../registry.ts';
import type { CliContext } from '../context.ts';
import { EXIT_STARTUP } from './run.ts';

export async function run(ctx: CliContext, names: string[]): Promise<void> {
  const wanted = resolveServices(names, ctx.registry);
  const config = ctx.config();
  // `vigil run` logs JSON to stdout, as containers expect.
  const logger = createLogger({ level: config.logLevel, base: { services: wanted.join(',') } });
  const modules = await loadServices(wanted, ctx.registry);
  // A signal while the start waits for the database or the broker: stop waiting, exit 0.
  const starting = new AbortController();
  const onEarlySignal = () => starting.abort(new Error('signal received during start'));
  process.once('SIGTERM', onEarlySignal);
  process.once('SIGINT', onEarlySignal);
  let running;
  try {
    running = await runServices(modules, createAppContext(config, logger), {
      // The doctor's checks for these services; the face check looks at the pool the
      // services will use, so nothing is loaded twice.
      checks: (app) => hostChecks(config, needsOf(wanted, ctx.registry), { face: () => faceAnalyzerFor(app), closeFace: false }),
      signal: starting.signal,
    });
  } catch (err) {
    if (starting.signal.aborted) {
      logger.info('stopped during start');
      return;
    }
    if (!(err instanceof StartupError)) throw err;
    logger.fatal({ check: err.result.name, detail: err.result.detail, fix: err.result.fix }, 'cannot start');
    ctx.io.err(`vigil: ${err.message}\n`);
    ctx.exitCode = EXIT_STARTUP;
    return;
  } finally {
    process.off('SIGTERM', onEarlySignal);
    process.off('SIGINT', onEarlySignal);
  }
  installProcessHandlers(running, logger);
  // Runs until a signal; the signal handler exits the process.
  await new Promise<never>(() => {});
}

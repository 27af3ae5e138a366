import type { Command } from 'commander';
import { createLogger } from '../../../shared/logger.ts';
import { createAppContext } from '../../../shared/app/app-context.ts';
import { runServices } from '../../../shared/app/run-services.ts';
import { installProcessHandlers } from '../../../shared/app/process-handlers.ts';
import { QUEUE_NAMES } from '../../../shared/contract/queue-names.ts';
import { SERVICES, availableServices } from '../../registry.ts';
import type { CliContext } from '../context.ts';

export function registerRun(program: Command, ctx: CliContext): void {
  program
    .command('run')
    .description(`run services in this process until SIGTERM (${QUEUE_NAMES.join(', ')}, or all)`)
    .argument('<service...>', 'service names, or "all"')
    .action(async (names: string[]) => {
      const available = availableServices();
      const wanted = names.includes('all') ? available : names;
      const unknown = wanted.filter((n) => !(n in SERVICES));
      if (unknown.length > 0 || wanted.length === 0) {
        throw new Error(`unknown service ${unknown.join(', ') || '(none)'}; available: ${available.join(', ') || '(none yet)'}`);
      }
      const config = ctx.config();
      // `vigil run` logs JSON to stdout, as containers expect.
      const logger = createLogger({ level: config.logLevel, base: { services: wanted.join(',') } });
      const modules = await Promise.all(wanted.map((n) => SERVICES[n as keyof typeof SERVICES]!()));
      const running = await runServices(modules, createAppContext(config, logger));
      installProcessHandlers(running, logger);
      // Runs until a signal; the signal handler exits the process.
      await new Promise<never>(() => {});
    });
}

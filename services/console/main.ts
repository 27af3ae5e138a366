import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { ServiceModule } from '../../shared/app/app-context.ts';
import type { ConsoleConfig } from '../../shared/config/console-config.ts';
import type { PlatformConfig } from '../../shared/config/platform-config.ts';
import { consoleSessionRepository } from '../../db/repositories/console-session.repository.ts';
import { consoleSigninRepository } from '../../db/repositories/console-signin.repository.ts';
import { buildConsoleApp } from './app.ts';
import { HOUSEKEEPING_EVERY_MS, consoleHousekeeping } from './housekeeping.ts';

/**
 * The supervisor console (CONTRACT.md "Console"): a Fastify app on `CONSOLE_PORT`, no queue.
 * Sessions live in the database, so any number of replicas can sit behind a load balancer.
 */
export const service: ServiceModule<PlatformConfig & { console: ConsoleConfig }> = {
  name: 'console',
  async create(ctx) {
    const config = ctx.config.console;
    let app: FastifyInstance | undefined;
    let listening = false;
    let housekeeping: NodeJS.Timeout | undefined;
    const housekeep = () =>
      consoleHousekeeping({
        sessions: consoleSessionRepository(ctx.database.db), signins: consoleSigninRepository(ctx.database.db),
        config, log: ctx.logger.child({ service: 'console' }), now: new Date(),
      });
    return {
      async start() {
        app = await buildConsoleApp({
          db: ctx.database.db, config, logger: ctx.logger, metrics: ctx.metrics, face: ctx.config.face, publisher: ctx.publisher, locks: ctx.locks,
        });
        await app.listen({ port: config.port, host: '0.0.0.0' });
        listening = true;
        housekeeping = setInterval(() => void housekeep(), HOUSEKEEPING_EVERY_MS);
        housekeeping.unref();
        ctx.logger.info({ service: 'console', consolePort: (app.server.address() as AddressInfo).port }, 'console listening');
      },
      ready: () => listening,
      async close() {
        listening = false;
        clearInterval(housekeeping);
        await app?.close();
      },
    };
  },
};

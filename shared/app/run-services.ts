import { Consumer } from '../runtime/consumer.ts';
import { startHealthServer, type HealthServer } from '../runtime/health-server.ts';
import type { PlatformConfig } from '../config/platform-config.ts';
import { topologyOptions, type AppContext, type ServiceInstance, type ServiceModule } from './app-context.ts';
import { fail, type HostCheck } from './checks/check.ts';
import { passStartupChecks, StartupError } from './startup.ts';

export interface RunningApp<C extends PlatformConfig = PlatformConfig> {
  app: AppContext<C>;
  consumers: Consumer<unknown>[];
  healthPort: number;
  /** Graceful stop: no new messages, in-flight ones finish or are requeued, all closed. */
  stop(): Promise<void>;
}

export interface RunServicesOptions<C extends PlatformConfig = PlatformConfig> {
  /** @default true */
  healthServer?: boolean;
  /**
   * Checks passed before any service is created or any message taken (`vigil run` passes
   * the doctor's checks for its services). @default []
   */
  checks?: (app: AppContext<C>) => HostCheck[];
  /** Aborting stops a start still waiting for a dependency. */
  signal?: AbortSignal;
}

/**
 * Starts the given services in this process: one broker connection, one database pool,
 * one metrics registry and health server for all of them. `/healthz` answers from the
 * start and `/readyz` only once every consumer is attached and every service started and
 * says it is ready. Consumers, HTTP apps and scheduled jobs alike. Resolves once every consumer
 * has been set up to subscribe (it subscribes as soon as the broker is reachable).
 *
 * Anything that fails on the way (a check, a service's `create`) closes what was already
 * built (worker pools, clients, pools, the health server) before the error is thrown, so a
 * failed start never leaves a process that neither works nor exits.
 */
export async function runServices<C extends PlatformConfig>(modules: ServiceModule<C>[], app: AppContext<C>, opts: RunServicesOptions<C> = {}): Promise<RunningApp<C>> {
  const { config, logger } = app;
  const instances: ServiceInstance[] = [];
  const consumers: Consumer<unknown>[] = [];
  let health: HealthServer | undefined;
  let started = false;

  const closeAll = async () => {
    await Promise.all(consumers.map((c) => c.close(config.shutdownTimeoutMs)));
    for (const i of instances) await i.close?.().catch((err: unknown) => logger.error({ err }, 'service close failed'));
    await app.runClosers();
    await app.publisher.close();
    await app.broker.close();
    await health?.close();
    await app.closeDatabases();
  };

  try {
    if (opts.healthServer ?? true) {
      health = await startHealthServer({
        port: config.metricsPort,
        registry: app.metrics.registry,
        checks: {
          broker: () => app.broker.isConnected,
          database: () => app.database.ping(),
          consumers: () => consumers.every((c) => c.attached),
          services: async () => started && (await Promise.all(instances.map((i) => i.ready?.() ?? true))).every(Boolean),
        },
      }).catch((err: unknown) => {
        if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
        throw new StartupError(fail('metrics port', `port ${config.metricsPort} is in use`, 'set METRICS_PORT to a free port (0 picks one)'));
      });
      logger.info({ port: health.port }, 'health and metrics server listening');
    }
    const checks = opts.checks?.(app) ?? [];
    await passStartupChecks(checks, {
      logger,
      retryMinMs: config.broker.reconnectMinMs,
      retryMaxMs: config.broker.reconnectMaxMs,
      signal: opts.signal,
    });
    for (const mod of modules) {
      const instance = await mod.create(app);
      instances.push(instance);
      for (const definition of instance.consumers ?? []) {
        consumers.push(
          new Consumer(definition, {
            broker: app.broker,
            publisher: app.publisher,
            metrics: app.metrics,
            logger,
            topology: topologyOptions(config),
            maxAttempts: config.broker.maxAttempts,
          }),
        );
      }
    }
    // Readiness waits for the start: until then no service has said it is ready.
    app.broker.start();
    for (const c of consumers) await c.start();
    for (const i of instances) await i.start?.();
    started = true;
  } catch (err) {
    await closeAll().catch((closeErr: unknown) => logger.error({ err: closeErr }, 'closing after a failed start failed'));
    throw err;
  }

  let stopping: Promise<void> | undefined;
  return {
    app,
    consumers,
    healthPort: health?.port ?? 0,
    stop() {
      stopping ??= (async () => {
        logger.info({ timeoutMs: config.shutdownTimeoutMs }, 'stopping: finishing in-flight messages');
        await closeAll();
        logger.info('stopped');
      })();
      return stopping;
    },
  };
}

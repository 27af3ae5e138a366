import { topologyOptions, type AppContext, type ServiceInstance, type ServiceModule } from './app-context.ts';
import { Consumer } from '../runtime/consumer.ts';
import { startHealthServer, type HealthServer } from '../runtime/health-server.ts';

export interface RunningApp {
  app: AppContext;
  consumers: Consumer<unknown>[];
  healthPort: number;
  /** Graceful stop: no new messages, in-flight ones finish or are requeued, all closed. */
  stop(): Promise<void>;
}

/**
 * Starts the given services in this process: one broker connection, one database pool,
 * one metrics registry and health server for all of them. Resolves once every consumer
 * has been set up to subscribe (it subscribes as soon as the broker is reachable).
 */
export async function runServices(
  modules: ServiceModule[],
  app: AppContext,
  opts: { healthServer?: boolean } = {},
): Promise<RunningApp> {
  const { config, logger } = app;
  const instances: ServiceInstance[] = [];
  const consumers: Consumer<unknown>[] = [];
  for (const mod of modules) {
    const instance = await mod.create(app);
    instances.push(instance);
    consumers.push(
      new Consumer(instance.definition, {
        broker: app.broker,
        publisher: app.publisher,
        metrics: app.metrics,
        logger,
        topology: topologyOptions(config),
        maxAttempts: config.broker.maxAttempts,
      }),
    );
  }
  app.broker.start();
  for (const c of consumers) await c.start();

  let health: HealthServer | undefined;
  if (opts.healthServer ?? true) {
    health = await startHealthServer({
      port: config.metricsPort,
      registry: app.metrics.registry,
      checks: {
        broker: () => app.broker.isConnected,
        database: () => app.database.ping(),
        consumers: () => consumers.every((c) => c.attached),
      },
    });
    logger.info({ port: health.port }, 'health and metrics server listening');
  }

  let stopping: Promise<void> | undefined;
  return {
    app,
    consumers,
    healthPort: health?.port ?? 0,
    stop() {
      stopping ??= (async () => {
        logger.info({ timeoutMs: config.shutdownTimeoutMs }, 'stopping: finishing in-flight messages');
        await Promise.all(consumers.map((c) => c.close(config.shutdownTimeoutMs)));
        for (const i of instances) await i.close?.().catch((err: unknown) => logger.error({ err }, 'service close failed'));
        await app.runClosers();
        await app.publisher.close();
        await app.broker.close();
        await health?.close();
        await app.closeDatabases();
        logger.info('stopped');
      })();
      return stopping;
    },
  };
}


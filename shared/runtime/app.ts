import { hostname } from 'node:os';
import { openDatabase, parseDatabaseUrl, type DatabaseHandle } from '../../db/connection.ts';
import type { Config } from '../config/config.ts';
import { createLockManager, type LockManager } from '../lock.ts';
import type { Logger } from '../logger.ts';
import { createMetrics, type Metrics } from '../metrics.ts';
import { BrokerConnection } from './connection.ts';
import { Consumer, type ServiceDefinition } from './consumer.ts';
import { startHealthServer, type HealthServer } from './health-server.ts';
import { Publisher } from './publisher.ts';
import type { TopologyOptions } from './topology.ts';

/** What every service gets: built once per process and shared by its services. */
export interface AppContext {
  config: Config;
  logger: Logger;
  metrics: Metrics;
  database: DatabaseHandle;
  locks: LockManager;
  broker: BrokerConnection;
  publisher: Publisher;
  /** Names this process in `process_status.worker` and the broker's connection list. */
  workerName: string;
  /** Closes the database pools (the broker is closed by the running app). */
  closeDatabases(): Promise<void>;
  /** Registers a resource shared by services (a worker pool) to close after the consumers. */
  onClose(fn: () => Promise<void>): void;
  /** Runs the registered closers, newest first. */
  runClosers(): Promise<void>;
}

export interface ServiceInstance {
  definition: ServiceDefinition<any>;
  /** Releases what `create` built (worker pools, clients). */
  close?(): Promise<void>;
}

/** A service's `main.ts` exports one: it builds its own dependencies from the app's. */
export interface ServiceModule {
  name: string;
  create(app: AppContext): Promise<ServiceInstance>;
}

export interface RunningApp {
  app: AppContext;
  consumers: Consumer<unknown>[];
  healthPort: number;
  /** Graceful stop: no new messages, in-flight ones finish or are requeued, all closed. */
  stop(): Promise<void>;
}

export function topologyOptions(config: Config): TopologyOptions {
  return {
    prefix: config.broker.queuePrefix,
    queueType: config.broker.queueType,
    retryDelaysMs: config.broker.retryDelaysMs,
    deliveryLimit: config.broker.deliveryLimit,
  };
}

/** The broker connection and its publisher, as the configuration sets them (not started). */
export function brokerClients(config: Config, logger: Logger, connectionName: string): { broker: BrokerConnection; publisher: Publisher } {
  const broker = new BrokerConnection({
    url: config.broker.url,
    heartbeatSeconds: config.broker.heartbeatSeconds,
    reconnectMinMs: config.broker.reconnectMinMs,
    reconnectMaxMs: config.broker.reconnectMaxMs,
    connectionName,
    logger,
  });
  const publisher = new Publisher(broker, { timeoutMs: config.broker.publishTimeoutMs, topology: topologyOptions(config), logger });
  return { broker, publisher };
}

/** Builds the shared context. Nothing connects until `runServices` starts the broker. */
export function createAppContext(config: Config, logger: Logger, extraPoolConnections = 0): AppContext {
  const metrics = createMetrics();
  const totalConcurrency = Object.values(config.concurrency).reduce((a, b) => a + b, 0);
  const database = openDatabase(config.database.url, { poolSize: config.database.poolSize });
  // Locks pin one connection per holder or waiter; kept apart from the query pool.
  const lockDb = openDatabase(config.database.url, { poolSize: totalConcurrency + 2 + extraPoolConnections });
  const workerName = `${hostname()}:${process.pid}`.slice(0, 128);
  const { broker, publisher } = brokerClients(config, logger, `vigil ${workerName}`);
  const locks = createLockManager({
    db: lockDb.db,
    namespace: parseDatabaseUrl(config.database.url).database,
    defaultTimeoutMs: config.lockTimeoutMs,
  });
  const closeDatabases = async () => {
    await Promise.all([database.close(), lockDb.close()]);
  };
  const closers: (() => Promise<void>)[] = [];
  return {
    config,
    logger,
    metrics,
    database,
    locks,
    broker,
    publisher,
    workerName,
    closeDatabases,
    onClose: (fn) => closers.push(fn),
    async runClosers() {
      for (const fn of closers.splice(0).reverse()) await fn().catch((err: unknown) => logger.error({ err }, 'close failed'));
    },
  };
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

import { hostname } from 'node:os';
import { openDatabase, parseDatabaseUrl, type DatabaseHandle } from '../../db/connection.ts';
import type { PlatformConfig } from '../config/platform-config.ts';
import { createLockManager, type LockManager } from '../lock.ts';
import type { Logger } from '../logger.ts';
import { createMetrics, type Metrics } from '../metrics.ts';
import type { BrokerConnection } from '../runtime/connection.ts';
import type { ServiceDefinition } from '../runtime/consumer.ts';
import type { Publisher } from '../runtime/publisher.ts';
import { brokerClients } from './broker-clients.ts';

export { brokerClients, topologyOptions } from './broker-clients.ts';

/**
 * What every service gets: built once per process and shared by its services. `C` is the
 * configuration the process loaded: the platform's sections and, for a service, its own.
 */
export interface AppContext<C extends PlatformConfig = PlatformConfig> {
  config: C;
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

/**
 * What a service runs: queue consumers, something of its own (an HTTP app, scheduled jobs),
 * or a mix. Each gets the same health and metrics server, start-up checks and graceful stop.
 */
export interface ServiceInstance {
  /** The queues it consumes; none for a service that serves pages or runs scheduled jobs. */
  consumers?: ServiceDefinition<any>[];
  /**
   * Starts what is not a consumer (listening, scheduling), after the checks passed and the
   * broker connection started. A throw fails the start like a failed `create`.
   */
  start?(): Promise<void>;
  /** Ready beyond its consumers (for an HTTP app: listening); `/readyz` asks it. */
  ready?(): boolean | Promise<boolean>;
  /** Stops and releases what `create` and `start` built; called after the consumers closed. */
  close?(): Promise<void>;
}

/**
 * A service's `main.ts` exports one: it builds its own dependencies from the app's. `C` names
 * the sections it reads (the platform's and its own, `services/<name>/config.ts`).
 */
export interface ServiceModule<C extends PlatformConfig = PlatformConfig> {
  name: string;
  create(app: AppContext<C>): Promise<ServiceInstance>;
}

/** Builds the shared context. Nothing connects until `runServices` starts the broker. */
export function createAppContext<C extends PlatformConfig>(config: C, logger: Logger, extraPoolConnections = 0): AppContext<C> {
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

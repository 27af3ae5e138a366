import type { Config } from '../config.ts';
import type { Logger } from '../../shared/logger.ts';
import type { Publisher } from '../../shared/runtime/publisher.ts';
import type { DatabaseHandle } from '../../db/connection.ts';
import type { LockManager } from '../../shared/lock.ts';
import { SERVICES, type Registry } from '../registry.ts';

export interface CliIo {
  out(text: string): void;
  err(text: string): void;
}

// Loaded by `prepare()`, not at import: `vigil --help` needs none of it (the configuration
// alone pulls in pino and every section's parser).
let loaded: { loadConfig: typeof import('../config.ts').loadConfig; createLogger: typeof import('../../shared/logger.ts').createLogger; pino: typeof import('pino').pino } | undefined;

/**
 * What every command gets: config and logger made on first use, so `--help` needs neither.
 * Commands run after `prepare()` (commands/lazy.ts); heavy modules load in the methods that need them.
 */
export class CliContext {
  private cachedConfig: Config | undefined;
  private cachedLogger: Logger | undefined;
  exitCode = 0;

  readonly io: CliIo;
  readonly registry: Registry;

  /** `registry`: the services `vigil run` and `vigil doctor` know (a test may add its own). */
  constructor(
    io: CliIo,
    registry: Registry = SERVICES,
  ) {
    this.io = io;
    this.registry = registry;
  }

  /** Loads the configuration's and the logger's modules, which `config()` and `logger()` use. */
  async prepare(): Promise<void> {
    if (loaded) return;
    const [{ loadConfig }, { createLogger }, { pino }] = await Promise.all([import('../config.ts'), import('../../shared/logger.ts'), import('pino')]);
    loaded ??= { loadConfig, createLogger, pino };
  }

  config(): Config {
    this.cachedConfig ??= modules().loadConfig();
    return this.cachedConfig;
  }

  /** Logs go to stderr, so a command's `--json` document is all there is on stdout. */
  logger(): Logger {
    this.cachedLogger ??= modules().createLogger({ level: this.config().logLevel, base: { cmd: 'vigil' }, destination: modules().pino.destination(2) });
    return this.cachedLogger;
  }

  /**
   * Starts loading what `withPublisher` will need, without waiting: a command that writes a
   * row and then publishes loads the broker's clients meanwhile (the module loader keeps
   * the one load; `withPublisher` reports a failure).
   */
  preloadPublisher(): void {
    import('../../shared/app/broker-clients.ts').catch(() => undefined);
  }

  /** Prints a `--json` document or the human text. */
  print(json: boolean, doc: unknown, text: () => string): void {
    this.io.out(json ? `${JSON.stringify(doc)}\n` : text());
  }

  /** Runs `fn` with a connected publisher and closes both afterwards. */
  async withPublisher<T>(fn: (publisher: Publisher) => Promise<T>): Promise<T> {
    const [{ brokerClients }] = await Promise.all([import('../../shared/app/broker-clients.ts'), this.prepare()]);
    const config = this.config();
    const { broker, publisher } = brokerClients(config, this.logger(), 'vigil cli');
    broker.start();
    try {
      await broker.waitUntilConnected(config.broker.publishTimeoutMs);
      return await fn(publisher);
    } finally {
      await publisher.close();
      await broker.close();
    }
  }

  /** Runs `fn` with a small database pool (and the services' lock namespace) and closes it afterwards. */
  async withDatabase<T>(fn: (db: DatabaseHandle['db'], locks: LockManager) => Promise<T>): Promise<T> {
    const [{ openDatabase, parseDatabaseUrl }, { createLockManager }] = await Promise.all([import('../../db/connection.ts'), import('../../shared/lock.ts'), this.prepare()]);
    const config = this.config();
    const handle = openDatabase(config.database.url, { poolSize: 2 });
    const lockDb = openDatabase(config.database.url, { poolSize: 1 });
    const locks = createLockManager({ db: lockDb.db, namespace: parseDatabaseUrl(config.database.url).database, defaultTimeoutMs: config.lockTimeoutMs });
    try {
      return await fn(handle.db, locks);
    } finally {
      await Promise.all([handle.close(), lockDb.close()]);
    }
  }
}

function modules(): NonNullable<typeof loaded> {
  if (!loaded) throw new Error('CliContext: prepare() before config() or logger()');
  return loaded;
}

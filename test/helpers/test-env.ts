import { randomBytes } from 'node:crypto';
import { after, before } from 'node:test';
import { connect } from 'amqplib';
import { loadConfig, type Config } from '../../services/config.ts';
import { dropDatabase, ensureDatabaseExists, openDatabase, type DatabaseHandle } from '../../db/connection.ts';
import { migrateToLatest } from '../../db/migrate.ts';
import { describeTopology } from '../../shared/runtime/topology.ts';
import { topologyOptions } from '../../shared/app/app-context.ts';
import { QUEUE_NAMES } from '../../shared/contract/queue-names.ts';

/** The services every development and CI machine runs. */
export const MYSQL_SERVER = 'mysql://root@127.0.0.1:3306';
export const AMQP_URL = 'amqp://guest:guest@127.0.0.1:5672';

export interface TestEnv {
  /** Environment for `loadConfig` and child processes: own database, own queue prefix. */
  env: Record<string, string>;
  config: Config;
  databaseName: string;
  prefix: string;
  /** Opened on first use; closed by `cleanup`. */
  database(): DatabaseHandle;
  /** Queues (logical names) beyond the contract's that `cleanup` removes too. */
  extraQueues: string[];
  cleanup(): Promise<void>;
}

/**
 * One database and one queue prefix per test file, removed by `cleanup`, so runs (and
 * files) never see each other's leftovers.
 */
export async function createTestEnv(
  label: string,
  overrides: Record<string, string> = {},
  opts: { migrate?: boolean } = {},
): Promise<TestEnv> {
  const id = `${label.replace(/[^a-z0-9]/gi, '').toLowerCase().slice(0, 20)}_${randomBytes(4).toString('hex')}`;
  const databaseName = `vigil_test_${id}`;
  const prefix = `test.${id}.`;
  const env: Record<string, string> = {
    DATABASE_URL: `${MYSQL_SERVER}/${databaseName}`,
    AMQP_URL,
    VIGIL_QUEUE_PREFIX: prefix,
    METRICS_PORT: '0',
    LOG_LEVEL: 'warn',
    ...overrides,
  };
  const config = loadConfig(env);
  if (opts.migrate ?? true) {
    await ensureDatabaseExists(config.database.url);
    const h = openDatabase(config.database.url, { poolSize: 1 });
    try {
      await migrateToLatest(h.db);
    } finally {
      await h.close();
    }
  }
  let handle: DatabaseHandle | undefined;
  const t: TestEnv = {
    env,
    config,
    databaseName,
    prefix,
    extraQueues: [],
    database: () => (handle ??= openDatabase(config.database.url, { poolSize: 5 })),
    async cleanup() {
      await handle?.close();
      await deleteQueues(config, [...QUEUE_NAMES, ...t.extraQueues]);
      await dropDatabase(config.database.url);
    },
  };
  return t;
}

/** Deletes each logical queue's work, retry and dead-letter queues as `config` names them (prefix, delays). */
export async function deleteQueues(config: Config, queues: readonly string[]): Promise<void> {
  const conn = await connect(config.broker.url);
  conn.on('error', () => undefined);
  try {
    const ch = await conn.createChannel();
    for (const q of queues) {
      for (const d of describeTopology(q, topologyOptions(config)).declarations) await ch.deleteQueue(d.name);
    }
    await ch.close();
  } finally {
    await conn.close().catch(() => undefined);
  }
}

/**
 * For a file whose tests need only the database: its TestEnv created before them and removed
 * after. The getter throws if called before the `before` hook ran.
 */
export function useTestEnv(label: string): () => TestEnv {
  let t: TestEnv | undefined;
  before(async () => {
    t = await createTestEnv(label);
  });
  after(async () => {
    await t?.cleanup();
  });
  return () => {
    if (!t) throw new Error(`the test environment ${label} is used before its before hook ran`);
    return t;
  };
}

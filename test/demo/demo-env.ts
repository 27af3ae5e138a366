import { randomBytes } from 'node:crypto';
import { loadConfig, type Config } from '../../services/config.ts';
import { dropDatabase } from '../../db/connection.ts';
import { describeTopology } from '../../shared/runtime/topology.ts';
import { topologyOptions } from '../../shared/app/app-context.ts';
import { QUEUE_NAMES } from '../../shared/contract/queue-names.ts';
import { deleteQueues } from '../helpers/test-env.ts';

/** What the demo always sets, whatever the caller's environment: its own short back-offs, no fixed port (the console's included). */
const DEMO_SETTINGS = { VIGIL_RETRY_DELAYS: '500ms', METRICS_PORT: '0', CONSOLE_PORT: '0', LOG_LEVEL: 'warn' } as const;

export interface DemoIds {
  databaseName: string;
  prefix: string;
}

export function newDemoIds(): DemoIds {
  const id = randomBytes(4).toString('hex');
  return { databaseName: `vigil_demo_${id}`, prefix: `demo${id}.` };
}

/**
 * The demo's environment: the server parts of DATABASE_URL and AMQP_URL as the caller's
 * configuration gives them (the local defaults otherwise), its own database and queue prefix.
 */
export function demoEnv(ids: DemoIds, base: Config, extra: Record<string, string>): Record<string, string> {
  const db = new URL(base.database.url);
  db.pathname = `/${ids.databaseName}`;
  db.search = '';
  return { DATABASE_URL: db.toString(), AMQP_URL: base.broker.url, VIGIL_QUEUE_PREFIX: ids.prefix, ...DEMO_SETTINGS, ...extra };
}

/** Every queue the demo's services may declare under `prefix`: work, retry and dead-letter queues of each. */
export function demoQueueNames(prefix: string): string[] {
  const config = loadConfig({ VIGIL_QUEUE_PREFIX: prefix, ...DEMO_SETTINGS });
  return QUEUE_NAMES.flatMap((q) => describeTopology(q, topologyOptions(config)).declarations.map((d) => d.name));
}

/** Drops the demo's database and deletes its queues; each part is tried even if another fails. */
export async function removeDemoResources(config: Config): Promise<string[]> {
  const problems: string[] = [];
  try {
    await deleteQueues(config, QUEUE_NAMES);
  } catch (err) {
    problems.push(`queues ${config.broker.queuePrefix}*: ${(err as Error).message}`);
  }
  try {
    await dropDatabase(config.database.url);
  } catch (err) {
    problems.push(`database: ${(err as Error).message}`);
  }
  return problems;
}

import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect } from 'amqplib';
import type { Kysely } from 'kysely';
import type { Config } from '../../services/config.ts';
import { createLogger, type Logger, type LogLevel } from '../../shared/logger.ts';
import type { Metrics } from '../../shared/metrics.ts';
import { createAppContext, type ServiceModule } from '../../shared/app/app-context.ts';
import { runServices, type RunningApp } from '../../shared/app/run-services.ts';
import { AMQP_URL } from './test-env.ts';

/** A logger whose JSON lines the test can read. */
export function captureLogger(level: LogLevel = 'info'): { logger: Logger; lines: Record<string, any>[] } {
  const lines: Record<string, any>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString().split('\n')) if (line.trim()) lines.push(JSON.parse(line));
      cb();
    },
  });
  return { logger: createLogger({ level, destination: sink }), lines };
}

export async function startApp(config: Config, modules: ServiceModule[], logger: Logger): Promise<RunningApp> {
  return runServices(modules, createAppContext(config, logger), { healthServer: false });
}

type PublishProps = { messageId?: (i: number) => string; headers?: Record<string, unknown> };

/** A producer's own connection and confirm channel, kept open between publishes. */
export interface RawPublisher {
  /** Publishes persistent messages and waits for the broker's confirms. */
  publish(queue: string, bodies: (Buffer | string)[], props?: PublishProps): Promise<void>;
  close(): Promise<void>;
}

export async function openPublisher(): Promise<RawPublisher> {
  const conn = await connect(AMQP_URL);
  try {
    const ch = await conn.createConfirmChannel();
    return {
      async publish(queue, bodies, props = {}) {
        for (const [i, body] of bodies.entries()) {
          const ok = ch.publish('', queue, Buffer.isBuffer(body) ? body : Buffer.from(body), { persistent: true, messageId: props.messageId?.(i), headers: props.headers });
          if (!ok) await new Promise((r) => ch.once('drain', r));
        }
        await ch.waitForConfirms();
      },
      async close() {
        try {
          await ch.close();
        } finally {
          await conn.close();
        }
      },
    };
  } catch (err) {
    await conn.close();
    throw err;
  }
}

/** Publishes bodies straight to the broker (not through a proxy), as a producer would, on a connection of its own. */
export async function publishRaw(queue: string, bodies: (Buffer | string)[], props: PublishProps = {}): Promise<void> {
  const publisher = await openPublisher();
  try {
    await publisher.publish(queue, bodies, props);
  } finally {
    await publisher.close();
  }
}

/** Messages waiting in a queue, each with its headers, taken off the queue. */
export async function drainQueue(queue: string): Promise<{ body: string; headers: Record<string, unknown> }[]> {
  const conn = await connect(AMQP_URL);
  const out: { body: string; headers: Record<string, unknown> }[] = [];
  try {
    const ch = await conn.createChannel();
    for (;;) {
      const m = await ch.get(queue, { noAck: true });
      if (!m) break;
      out.push({ body: m.content.toString(), headers: (m.properties.headers ?? {}) as Record<string, unknown> });
    }
    await ch.close();
  } finally {
    await conn.close();
  }
  return out;
}

export async function queueDepth(queue: string): Promise<number> {
  const conn = await connect(AMQP_URL);
  conn.on('error', () => undefined);
  try {
    const ch = await conn.createChannel();
    // A missing queue closes the channel with 404; the rejection below carries it.
    ch.on('error', () => undefined);
    const q = await ch.checkQueue(queue);
    await ch.close();
    return q.messageCount;
  } finally {
    await conn.close();
  }
}

export async function waitFor(what: string, cond: () => Promise<boolean> | boolean, timeoutMs: number, everyMs = 100): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await cond()) return;
    await sleep(everyMs);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** Sum of a metric's samples whose labels include `labels`. */
export async function metricValue(metrics: Metrics, name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = metrics.registry.getSingleMetric(name);
  if (!metric) throw new Error(`no metric ${name}`);
  const { values } = await metric.get();
  return values
    .filter((v) => !('metricName' in v) || v.metricName === name || v.metricName === `${name}_count`)
    .filter((v) => Object.entries(labels).every(([k, val]) => (v.labels as Record<string, unknown>)[k] === val))
    .reduce((sum, v) => sum + v.value, 0);
}

export async function ledgerCounts(db: Kysely<any>): Promise<{ done: number; effects: Map<number, number> }> {
  const done = await db.selectFrom('ledger_job').select(({ fn }) => fn.countAll<number>().as('n')).where('status', '=', 'Y').executeTakeFirstOrThrow();
  const rows = await db.selectFrom('ledger_effect').select(['job_id']).execute();
  const effects = new Map<number, number>();
  for (const r of rows) effects.set(r.job_id as number, (effects.get(r.job_id as number) ?? 0) + 1);
  return { done: Number(done.n), effects };
}

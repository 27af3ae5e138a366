// Issue 3 benchmark: a no-op handler through Vigil's consumer runtime against a raw amqplib
// consume-and-ack loop, on the same broker and the same quorum queue, in the same run.
// Rate = messages from the first delivery to the last outcome, over that time.
import { connect } from 'amqplib';
import { loadConfig } from '../../services/config.ts';
import { createLogger } from '../../shared/logger.ts';
import { createAppContext } from '../../shared/app/app-context.ts';
import { runServices } from '../../shared/app/run-services.ts';
import { imageIdCodec } from '../../shared/contract/messages.ts';
import { describeTopology, assertTopology } from '../../shared/runtime/topology.ts';
import { topologyOptions } from '../../shared/app/app-context.ts';
import { AMQP_URL, MYSQL_SERVER } from '../helpers/test-env.ts';
import { median, printTable } from './table.ts';

const prefix = `bench.${process.pid}.`;
const config = loadConfig({ AMQP_URL, DATABASE_URL: `${MYSQL_SERVER}/vigil_bench_unused`, VIGIL_QUEUE_PREFIX: prefix, LOG_LEVEL: 'info', METRICS_PORT: '0' });
const topology = describeTopology('bench', topologyOptions(config));

async function preload(n: number): Promise<void> {
  const conn = await connect(AMQP_URL);
  const ch = await conn.createConfirmChannel();
  await assertTopology(ch, topology);
  await ch.purgeQueue(topology.work);
  for (let i = 1; i <= n; i++) {
    if (!ch.publish('', topology.work, Buffer.from(String(i)), { persistent: true })) await new Promise((r) => ch.once('drain', r));
  }
  await ch.waitForConfirms();
  await conn.close();
}

async function rawLoop(n: number, prefetch: number): Promise<number> {
  const conn = await connect(AMQP_URL);
  const ch = await conn.createChannel();
  await ch.prefetch(prefetch);
  let seen = 0;
  let t0 = 0;
  const rate = await new Promise<number>((resolve) => {
    void ch.consume(topology.work, (msg) => {
      if (!msg) return;
      if (seen === 0) t0 = performance.now();
      ch.ack(msg);
      if (++seen === n) resolve((n - 1) / ((performance.now() - t0) / 1000));
    });
  });
  await conn.close();
  return rate;
}

async function runtimeLoop(n: number, concurrency: number): Promise<number> {
  const logger = createLogger({ level: 'info' });
  let seen = 0;
  let t0 = 0;
  let finish!: (rate: number) => void;
  const finished = new Promise<number>((r) => (finish = r));
  const running = await runServices(
    [
      {
        name: 'bench',
        create: async () => ({
          consumers: [{
            service: 'bench',
            queue: 'bench',
            concurrency,
            codec: imageIdCodec,
            handle: async () => {
              if (seen === 0) t0 = performance.now();
              if (++seen === n) setImmediate(() => finish((n - 1) / ((performance.now() - t0) / 1000)));
              return 'done';
            },
          }],
        }),
      },
    ],
    createAppContext(config, logger),
    { healthServer: false },
  );
  const rate = await finished;
  await running.stop();
  return rate;
}

export async function benchRuntime(): Promise<void> {
  const rows: (string | number)[][] = [];
  for (const [concurrency, n] of [[1, 4000], [32, 30000]] as const) {
    const raw: number[] = [];
    const rt: number[] = [];
    // Alternate the two, three rounds each, and take medians: the broker warms up and
    // the machine's noise hits both alike.
    for (let round = 0; round < 3; round++) {
      await preload(n);
      raw.push(await rawLoop(n, concurrency));
      await preload(n);
      rt.push(await runtimeLoop(n, concurrency));
    }
    const r = median(raw);
    const v = median(rt);
    rows.push([concurrency, n, Math.round(r), Math.round(v), (v / r).toFixed(2), v / r >= 0.8 ? 'yes' : 'NO']);
  }
  printTable('Consumer runtime vs raw amqplib loop (no-op handler, quorum queue, median of 3)', ['concurrency', 'messages', 'raw msg/s', 'runtime msg/s', 'ratio', '>= 0.80'], rows);

  const conn = await connect(AMQP_URL);
  const ch = await conn.createChannel();
  for (const d of topology.declarations) await ch.deleteQueue(d.name);
  await conn.close();
}

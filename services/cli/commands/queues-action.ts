import { connect } from 'amqplib';
import { closeConnection } from '../../../shared/runtime/connection.ts';
import { queueDepth } from '../../../shared/runtime/queue-depth.ts';
import { describeTopology } from '../../../shared/runtime/topology.ts';
import { QUEUE_NAMES } from '../../../shared/contract/queue-names.ts';
import { topologyOptions } from '../../../shared/app/broker-clients.ts';
import type { CliContext } from '../context.ts';

interface QueueReport {
  queue: string;
  declared: boolean;
  messages: number;
  consumers: number;
  retrying: number;
  deadLetters: number;
}

export async function run(ctx: CliContext, opts: { json?: boolean }): Promise<void> {
  const config = ctx.config();
  const conn = await connect(config.broker.url, { clientProperties: { connection_name: 'vigil queues' }, timeout: 10_000 });
  conn.on('error', () => undefined);
  const depth = (name: string) => queueDepth(conn, name);
  const reports: QueueReport[] = [];
  try {
    for (const name of QUEUE_NAMES) {
      const topo = describeTopology(name, topologyOptions(config));
      const work = await depth(topo.work);
      const dlq = await depth(topo.dlq);
      let retrying = 0;
      for (const d of topo.declarations.slice(2)) retrying += (await depth(d.name))?.messages ?? 0;
      reports.push({
        queue: topo.work,
        declared: work !== undefined,
        messages: work?.messages ?? 0,
        consumers: work?.consumers ?? 0,
        retrying,
        deadLetters: dlq?.messages ?? 0,
      });
    }
  } finally {
    await closeConnection(conn);
  }
  ctx.print(!!opts.json, { queues: reports }, () => formatTable(reports));
}

function formatTable(rows: QueueReport[]): string {
  const header = ['queue', 'messages', 'consumers', 'retrying', 'dead letters'];
  const body = rows.map((r) =>
    r.declared ? [r.queue, r.messages, r.consumers, r.retrying, r.deadLetters].map(String) : [r.queue, '-', '-', '-', String(r.deadLetters)],
  );
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return `${[line(header), ...body.map(line)].join('\n')}\n${rows.some((r) => !r.declared) ? '(- : not declared yet; a service or `vigil publish` declares it)\n' : ''}`;
}

import { connect, type ChannelModel } from 'amqplib';
import { errorMessage } from '../../errors.ts';
import { closeConnection } from '../../runtime/connection.ts';
import { queueDepth } from '../../runtime/queue-depth.ts';
import { describeTopology, type TopologyOptions } from '../../runtime/topology.ts';
import { fail, ok, warn, type CheckResult, type HostCheck } from './check.ts';
import { isUnreachable } from './unreachable.ts';

/** The broker: reachable with these credentials, and each named queue's depth and dead letters. */
export function brokerCheck(url: string, queues: readonly string[], topology: TopologyOptions): HostCheck {
  return {
    name: 'broker',
    async run() {
      const u = new URL(url);
      const where = `${u.hostname}:${u.port || (u.protocol === 'amqps:' ? 5671 : 5672)}${decodeURIComponent(u.pathname) || '/'}`;
      let conn: ChannelModel;
      try {
        conn = await connect(url, { clientProperties: { connection_name: 'vigil doctor' }, timeout: 10_000 });
      } catch (err) {
        if (isUnreachable(err)) return [fail('broker', `cannot reach ${where}: ${errorMessage(err) || 'connection refused'}`, 'start RabbitMQ or fix AMQP_URL', true)];
        if (/ACCESS.REFUSED|403/.test(errorMessage(err))) return [fail('broker', `access refused at ${where}`, "check AMQP_URL's user, password and vhost")];
        return [fail('broker', `${where}: ${errorMessage(err)}`, 'check AMQP_URL and the broker log')];
      }
      conn.on('error', () => undefined);
      try {
        const server = conn.connection.serverProperties as { product?: string; version?: string } | undefined;
        const results: CheckResult[] = [ok('broker', `${server?.product ?? 'AMQP broker'} ${server?.version ?? ''} at ${where}`.replace(/\s+/g, ' '))];
        for (const queue of queues) results.push(await queueDepths(conn, queue, topology));
        return results;
      } finally {
        await closeConnection(conn);
      }
    },
  };
}

async function queueDepths(conn: ChannelModel, queue: string, topology: TopologyOptions): Promise<CheckResult> {
  const topo = describeTopology(queue, topology);
  const work = await queueDepth(conn, topo.work);
  const dlq = await queueDepth(conn, topo.dlq);
  const name = `queue ${topo.work}`;
  if (!work) return ok(name, 'not declared yet; the service declares it when it starts');
  const detail = `${work.messages} waiting, ${work.consumers} consumers, ${dlq?.messages ?? 0} dead letters`;
  if (dlq && dlq.messages > 0) return warn(name, detail, `inspect ${topo.dlq} (\`vigil queues\`), then replay or discard its messages`);
  return ok(name, detail);
}

import type { ChannelModel } from 'amqplib';

/**
 * A queue's depth and consumers, or undefined when it is not declared. A passive check
 * of a missing queue closes its channel (404), so each check gets a channel of its own.
 */
export async function queueDepth(conn: ChannelModel, name: string): Promise<{ messages: number; consumers: number } | undefined> {
  const ch = await conn.createChannel();
  ch.on('error', () => undefined);
  try {
    const q = await ch.checkQueue(name);
    return { messages: q.messageCount, consumers: q.consumerCount };
  } catch {
    return undefined;
  } finally {
    await ch.close().catch(() => undefined);
  }
}
